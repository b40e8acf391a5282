package io.ephemera.worker.sandbox;

import io.ephemera.sandbox.SandboxCluster;
import io.ephemera.sandbox.SandboxEc2;
import io.ephemera.sandbox.SandboxGitLab;
import io.ephemera.sandbox.SandboxRegistry;
import io.ephemera.sandbox.SandboxVault;
import io.swagger.v3.oas.annotations.Hidden;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /sandbox/inventory}: what the sandboxes hold right now; 404 without a sandbox. */
@Hidden // a local-profile debugging aid, not part of the API contract
@RestController
class SandboxInventoryController {
  private final ObjectProvider<SandboxCluster> cluster;
  private final ObjectProvider<SandboxGitLab> gitlab;
  private final ObjectProvider<SandboxEc2> ec2;
  private final ObjectProvider<SandboxVault> vault;
  private final ObjectProvider<SandboxRegistry> registry;

  SandboxInventoryController(
      ObjectProvider<SandboxCluster> cluster,
      ObjectProvider<SandboxGitLab> gitlab,
      ObjectProvider<SandboxEc2> ec2,
      ObjectProvider<SandboxVault> vault,
      ObjectProvider<SandboxRegistry> registry) {
    this.cluster = cluster;
    this.gitlab = gitlab;
    this.ec2 = ec2;
    this.vault = vault;
    this.registry = registry;
  }

  @GetMapping("/sandbox/inventory")
  ResponseEntity<?> inventory() {
    SandboxCluster c = cluster.getIfAvailable();
    SandboxGitLab g = gitlab.getIfAvailable();
    SandboxEc2 e = ec2.getIfAvailable();
    SandboxVault v = vault.getIfAvailable();
    SandboxRegistry r = registry.getIfAvailable();
    if (c == null && g == null && e == null && v == null && r == null) {
      ProblemDetail p =
          ProblemDetail.forStatusAndDetail(
              HttpStatus.NOT_FOUND, "No sandbox is active: Ephemera is using real endpoints.");
      p.setTitle("No sandbox");
      return ResponseEntity.status(HttpStatus.NOT_FOUND).body(p);
    }
    // Only the sandboxes that are active are listed: a real endpoint has no inventory here.
    Map<String, Object> body = new LinkedHashMap<>();
    if (c != null) {
      body.put("namespaces", c.inventory());
      body.put("builds", c.builds());
    }
    if (g != null) {
      body.put("runners", g.inventory());
      body.put("gitlab", g.feedbackInventory());
    }
    if (e != null) {
      body.put("instances", e.inventory().instances());
    }
    if (v != null) {
      // Lease ids, paths and states only: never a value.
      body.put("leases", v.leases());
    }
    if (r != null) {
      body.put("images", r.inventory());
    }
    return ResponseEntity.ok(body);
  }
}
