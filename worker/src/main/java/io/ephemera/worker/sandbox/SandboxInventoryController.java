package io.ephemera.worker.sandbox;

import io.ephemera.sandbox.SandboxCluster;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /sandbox/inventory}: what the sandboxes hold right now; 404 without a sandbox. */
@RestController
class SandboxInventoryController {
  private final ObjectProvider<SandboxCluster> cluster;

  SandboxInventoryController(ObjectProvider<SandboxCluster> cluster) {
    this.cluster = cluster;
  }

  @GetMapping("/sandbox/inventory")
  ResponseEntity<?> inventory() {
    SandboxCluster c = cluster.getIfAvailable();
    if (c == null) {
      ProblemDetail p =
          ProblemDetail.forStatusAndDetail(
              HttpStatus.NOT_FOUND, "No sandbox is active: Ephemera is using real endpoints.");
      p.setTitle("No sandbox");
      return ResponseEntity.status(HttpStatus.NOT_FOUND).body(p);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("namespaces", c.inventory());
    return ResponseEntity.ok(body);
  }
}
