package io.ephemera.worker.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ephemera.activity.credentials.CredentialActivities;
import io.ephemera.activity.credentials.CredentialPurpose;
import io.ephemera.activity.credentials.CredentialRequest;
import io.ephemera.activity.credentials.IssuedCredentials;
import io.ephemera.activity.credentials.Lease;
import io.ephemera.activity.credentials.RevokeRequest;
import io.ephemera.activity.reconciler.LeaseSource;
import io.ephemera.activity.reconciler.ManagedSource;
import io.ephemera.activity.vault.VaultLeaseIndex;
import io.ephemera.activity.vault.VaultProperties;
import io.ephemera.activity.vault.VaultProperties.SourceSpec;
import io.ephemera.activity.vault.VaultSession;
import io.ephemera.common.WorkflowIds;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * deploy/vault: the policies are well-formed HCL path blocks granting no more than plain
 * capabilities, and setup.sh applies every one of them and binds the worker's role to the
 * ServiceAccount the Helm chart renders.
 */
@EnableKubernetesMockClient(crud = true, https = false)
class VaultSetupTest {
  KubernetesClient client;

  static final Path VAULT = Path.of("..", "deploy", "vault");

  /** Capabilities a policy here may grant: never sudo, never a wildcard, never root. */
  static final Set<String> ALLOWED = Set.of("create", "read", "update", "patch", "delete", "list");

  private static final Pattern COMMENT = Pattern.compile("(?m)(#|//).*$");
  private static final Pattern BLOCK =
      Pattern.compile(
          "\\s*path\\s+\"([^\"]+)\"\\s*\\{\\s*capabilities\\s*=\\s*\\[([^\\]]*)\\]\\s*}\\s*");

  record PathBlock(String path, List<String> capabilities) {}

  /** Parses a policy made only of {@code path "..." { capabilities = [...] }} blocks. */
  static List<PathBlock> parse(String hcl) {
    String body = COMMENT.matcher(hcl).replaceAll("");
    List<PathBlock> blocks = new ArrayList<>();
    Matcher m = BLOCK.matcher(body);
    int end = 0;
    while (m.find() && m.start() == end) {
      List<String> caps = new ArrayList<>();
      for (String c : m.group(2).split(",")) {
        String cap = c.strip();
        if (cap.isEmpty()) {
          continue;
        }
        assertThat(cap).as("capability in " + m.group(1)).matches("\"[^\"]+\"");
        caps.add(cap.substring(1, cap.length() - 1));
      }
      blocks.add(new PathBlock(m.group(1), caps));
      end = m.end();
    }
    assertThat(body.substring(end).strip())
        .as("text that is not a path block with capabilities")
        .isEmpty();
    return blocks;
  }

  static Map<String, List<PathBlock>> policies() throws IOException {
    Map<String, List<PathBlock>> policies = new LinkedHashMap<>();
    try (Stream<Path> files = Files.list(VAULT.resolve("policies"))) {
      for (Path p : files.filter(f -> f.toString().endsWith(".hcl")).sorted().toList()) {
        policies.put(p.getFileName().toString(), parse(Files.readString(p)));
      }
    }
    return policies;
  }

  @Test
  void everyPathBlockGrantsPlainCapabilitiesOnly() throws IOException {
    Map<String, List<PathBlock>> policies = policies();
    assertThat(policies.keySet())
        .contains("review-app.hcl", "runner.hcl", "reconciler.hcl", "ci-pipeline.hcl");
    policies.forEach(
        (file, blocks) -> {
          assertThat(blocks).as(file).isNotEmpty();
          for (PathBlock b : blocks) {
            String where = file + " " + b.path();
            assertThat(b.capabilities()).as(where).isNotEmpty().doesNotHaveDuplicates();
            assertThat(b.capabilities()).as(where).allMatch(ALLOWED::contains);
            assertThat(b.path()).as(where).isNotIn("*", "+", "sys/*", "secret/*", "auth/*");
            if (b.path().startsWith("sys/")) {
              assertThat(b.path())
                  .as(where + ": the only sys/ path")
                  .isEqualTo("sys/leases/revoke");
            }
          }
        });
  }

  @Test
  void theParserRejectsWhatVaultWouldNotTakeAsAPlainPolicy() {
    assertThat(parse("path \"a/b\" {\n  capabilities = [\"read\", \"list\"]\n}\n"))
        .containsExactly(new PathBlock("a/b", List.of("read", "list")));
    for (String bad :
        List.of(
            "path \"a\" {\n}\n",
            "path \"a\" { capabilities = [\"read\"] \n",
            "path \"a\" { capabilities = [\"read\"] }\nstray",
            "path \"a\" { capabilities = [read] }")) {
      assertThatThrownBy(() -> parse(bad)).as(bad).isInstanceOf(AssertionError.class);
    }
  }

  @Test
  void eachWorkerPolicyGrantsItsOwnTokenRenewal() throws IOException {
    for (String file : List.of("review-app.hcl", "runner.hcl", "reconciler.hcl")) {
      List<PathBlock> blocks = policies().get(file);
      assertThat(blocks)
          .as(file)
          .contains(new PathBlock("auth/token/renew-self", List.of("update")));
      assertThat(blocks)
          .as(file)
          .contains(new PathBlock("auth/token/lookup-self", List.of("read")));
    }
    assertThat(policies().get("review-app.hcl"))
        .extracting(PathBlock::path)
        .contains("sys/leases/revoke", "aws/creds/ephemera-build-cache");
  }

  @Test
  void setupAppliesEveryPolicyAndBindsTheChartsWorkerServiceAccount() throws IOException {
    String script = Files.readString(VAULT.resolve("setup.sh"));
    for (String file : policies().keySet()) {
      String name = file.substring(0, file.length() - ".hcl".length());
      assertThat(script)
          .as("setup.sh writes " + file)
          .contains("vault policy write ephemera-" + name + " \"$POLICIES/" + file + "\"");
    }
    for (String method : List.of("kubernetes", "approle", "jwt")) {
      assertThat(script).contains("enable_auth " + method + " " + method);
    }
    assertThat(script).contains("enable_secrets secret kv-v2", "enable_secrets aws aws");
    // The GitLab CI role is bound to project and protected ref, as the pipeline-side pattern needs.
    assertThat(script).contains("\"project_path\"", "\"ref_protected\": \"true\"");

    RenderedChart chart = RenderedChart.defaults();
    String sa =
        chart.deployment("worker").getSpec().getTemplate().getSpec().getServiceAccountName();
    assertThat(script).contains("EPHEMERA_SERVICE_ACCOUNT=${EPHEMERA_SERVICE_ACCOUNT:-" + sa + "}");
    String role = (String) chart.property("ephemera.vault.auth.kubernetes.role");
    assertThat(role).isNotBlank();
    assertThat(script)
        .contains(
            "vault write auth/"
                + chart.property("ephemera.vault.auth.kubernetes.mount")
                + "/role/"
                + role);
    RenderedChart approle =
        RenderedChart.render(
            Map.of("vault.auth.method", "approle", "vault.auth.existingSecret", "vault-approle"));
    assertThat(script)
        .contains(
            "vault write auth/"
                + approle.property("ephemera.vault.auth.approle.mount")
                + "/role/"
                + approle.property("ephemera.vault.auth.approle.role-name"));
    // The worker carries every worker policy, whichever way it logs in.
    assertThat(workerPolicies(script))
        .containsExactlyInAnyOrder("review-app.hcl", "runner.hcl", "reconciler.hcl");
  }

  /** The policy files setup.sh gives the worker's roles (its WORKER_POLICIES line). */
  static List<String> workerPolicies(String script) {
    Matcher m = Pattern.compile("(?m)^WORKER_POLICIES=(\\S+)$").matcher(script);
    assertThat(m.find()).as("setup.sh sets WORKER_POLICIES").isTrue();
    List<String> files = new ArrayList<>();
    for (String policy : m.group(1).split(",")) {
      assertThat(policy).startsWith("ephemera-");
      files.add(policy.substring("ephemera-".length()) + ".hcl");
    }
    return files;
  }

  // ---- the policies against what the adapters call ----

  /**
   * The worker's policies grant exactly what its Vault adapters ask of Vault, derived rather than
   * listed: the chart's configuration (its sources, with the example dynamic source switched on,
   * and its lease index) is bound into {@link VaultProperties}, the real adapters run a deploy's
   * credentials, their revocation, and a reconciler pass over the lease index against the sandbox
   * Vault, and every request in its log must be granted by the policy of that concern, with the
   * capability its HTTP method needs; every path block must be used by some request.
   */
  @Test
  void theWorkerPoliciesGrantExactlyWhatTheVaultAdaptersAsk() throws IOException {
    Map<String, List<PathBlock>> policies = policies();
    Map<String, List<String>> asked = new LinkedHashMap<>();
    RenderedChart chart = RenderedChart.render(VaultExercise.EXAMPLE_SOURCES);
    String buildNs = (String) chart.property("ephemera.build.namespace");
    String reviewNs = "review-4242-mr-7-group-app";
    Set<String> kvMounts = new java.util.TreeSet<>();
    try (VaultExercise vault = VaultExercise.of(chart)) {
      assertThat(vault.sources())
          .extracting(VaultProperties.SourceSpec::kind)
          .as("every kind of source is exercised")
          .containsExactlyInAnyOrder(
              VaultProperties.REGISTRY_PUSH,
              VaultProperties.BUILD_CACHE,
              VaultProperties.SOURCE_READ,
              VaultProperties.REGISTRY_PULL);
      vault.sources().stream()
          .filter(s -> s.engine() == VaultProperties.Engine.KV2)
          .forEach(s -> kvMounts.add(s.mount()));
      kvMounts.add(vault.properties.leaseIndex().mount());
      CredentialActivities credentials = vault.credentials(client);
      String workflowId = WorkflowIds.reviewApp(VaultExercise.PROJECT_ID, 7);

      // review-app.hcl: a deploy's credentials, the build's revoked after the build.
      int mark = vault.requests().size();
      IssuedCredentials build =
          credentials.issue(
              new CredentialRequest(
                  workflowId,
                  VaultExercise.PROJECT_ID,
                  VaultExercise.PROJECT_PATH,
                  CredentialPurpose.BUILD,
                  buildNs,
                  "build-da1560886d4f-credentials"));
      assertThat(build.leases()).anyMatch(Lease::revocable);
      credentials.issue(
          new CredentialRequest(
              workflowId,
              VaultExercise.PROJECT_ID,
              VaultExercise.PROJECT_PATH,
              CredentialPurpose.DEPLOY,
              reviewNs,
              "registry-pull"));
      credentials.revoke(new RevokeRequest(workflowId, build.leases()));
      // A second build, whose workflow dies before revoking: the reconciler finds its leases.
      String dead = WorkflowIds.reviewApp(VaultExercise.PROJECT_ID, 8);
      credentials.issue(
          new CredentialRequest(
              dead,
              VaultExercise.PROJECT_ID,
              VaultExercise.PROJECT_PATH,
              CredentialPurpose.BUILD,
              buildNs,
              "build-0123456789ab-credentials"));
      asked.put("review-app.hcl", since(vault, mark));

      // reconciler.hcl: page through the index (one entry a page) and reap what it finds.
      mark = vault.requests().size();
      LeaseSource leases = new LeaseSource(vault.index);
      List<ManagedSource.Managed> found = new ArrayList<>();
      String cursor = null;
      do {
        ManagedSource.Page page = leases.page(cursor, 1);
        found.addAll(page.items());
        cursor = page.next();
      } while (cursor != null);
      assertThat(found).isNotEmpty().allMatch(m -> m.owner().equals(dead));
      for (ManagedSource.Managed orphan : found) {
        credentials.revoke(new RevokeRequest(orphan.owner(), List.of(orphan.lease())));
      }
      assertThat(leases.page(null, 10).items()).isEmpty();
      asked.put("reconciler.hcl", since(vault, mark));

      // Every policy: the session's own token, renewed before it expires.
      mark = vault.requests().size();
      vault.clock.advance(Duration.ofMinutes(50));
      leases.page(null, 10);
      List<String> session = new ArrayList<>(since(vault, mark));
      try (VaultSession byToken =
          new VaultSession(
              vault.properties.withEndpoint(
                  vault.sandbox.url(),
                  VaultProperties.Auth.token(vault.sandbox.createToken(Duration.ofHours(1), true))),
              vault.clock)) {
        mark = vault.requests().size();
        new VaultLeaseIndex(byToken, vault.properties.leaseIndex()).page(null, 10);
        session.addAll(since(vault, mark));
      }
      session.removeIf(r -> !r.contains(" /v1/auth/token/"));
      assertThat(session)
          .as("renewal and token lookup happened")
          .anyMatch(r -> r.contains("renew-self"))
          .anyMatch(r -> r.contains("lookup-self"));
      for (String file : workerPolicies(Files.readString(VAULT.resolve("setup.sh")))) {
        asked.computeIfAbsent(file, f -> new ArrayList<>()).addAll(session);
      }

      // ci-pipeline.hcl: exactly the registry push credential the chart's builds read.
      SourceSpec push =
          vault.sources().stream()
              .filter(s -> s.kind().equals(VaultProperties.REGISTRY_PUSH))
              .findFirst()
              .orElseThrow();
      assertThat(policies.get("ci-pipeline.hcl"))
          .containsExactly(
              new PathBlock(
                  push.mount() + "/data/" + push.path().substring(push.mount().length() + 1),
                  List.of("read")));
    }

    List<String> denied = new ArrayList<>();
    Map<String, Set<String>> usedBlocks = new LinkedHashMap<>();
    asked.forEach(
        (file, requests) -> {
          List<PathBlock> blocks = policies.get(file);
          assertThat(requests).as(file + ": requests recorded").isNotEmpty();
          for (String request : requests) {
            String[] parts = request.split(" ", 2);
            String method = parts[0];
            String target = parts[1].substring("/v1/".length());
            String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
            if (path.startsWith("auth/") && path.endsWith("/login")) {
              continue; // logins need no policy
            }
            String capability = capability(method, target, path, kvMounts);
            PathBlock block = mostSpecific(blocks, path);
            if (block == null || !block.capabilities().contains(capability)) {
              denied.add(file + ": " + capability + " " + path + " (" + request + ")");
            } else {
              usedBlocks
                  .computeIfAbsent(file, f -> new java.util.TreeSet<>())
                  .add(block.path() + " " + capability);
            }
          }
        });
    assertThat(denied).as("requests the worker's policies do not grant").isEmpty();
    List<String> unused = new ArrayList<>();
    for (String file : asked.keySet()) {
      for (PathBlock b : policies.get(file)) {
        for (String capability : b.capabilities()) {
          if (!usedBlocks.getOrDefault(file, Set.of()).contains(b.path() + " " + capability)) {
            unused.add(file + ": " + capability + " " + b.path());
          }
        }
      }
    }
    assertThat(unused).as("grants no request of the adapters uses (remove them)").isEmpty();
  }

  @Test
  void policyPathsMatchAsVaultMatchesThem() {
    List<PathBlock> blocks =
        List.of(
            new PathBlock("secret/data/ephemera/leases/*", List.of("create")),
            new PathBlock("secret/data/ephemera/leases/special", List.of("read")),
            new PathBlock("secret/data/+/registry/push", List.of("read")),
            new PathBlock("secret/data/*", List.of("list")));
    assertThat(mostSpecific(blocks, "secret/data/ephemera/leases/ab12").path())
        .isEqualTo("secret/data/ephemera/leases/*");
    assertThat(mostSpecific(blocks, "secret/data/ephemera/leases/special").path())
        .isEqualTo("secret/data/ephemera/leases/special");
    assertThat(mostSpecific(blocks, "secret/data/team/registry/push").path())
        .isEqualTo("secret/data/+/registry/push");
    assertThat(mostSpecific(blocks, "secret/data/other").path()).isEqualTo("secret/data/*");
    assertThat(mostSpecific(blocks, "aws/creds/x")).isNull();
    assertThat(
            capability("GET", "secret/metadata/x?list=true", "secret/metadata/x", Set.of("secret")))
        .isEqualTo("list");
    assertThat(capability("PUT", "secret/data/x", "secret/data/x", Set.of("secret")))
        .isEqualTo("create");
    assertThat(capability("PUT", "sys/leases/revoke", "sys/leases/revoke", Set.of("secret")))
        .isEqualTo("update");
  }

  private static List<String> since(VaultExercise vault, int mark) {
    List<String> all = vault.requests();
    return new ArrayList<>(all.subList(mark, all.size()));
  }

  /**
   * The capability a request needs (Vault's mapping of HTTP methods). A write to a KV data path
   * creates a new entry (the lease index writes each lease once), so it needs {@code create}; other
   * writes (a revocation, dynamic credentials with a TTL) are {@code update}.
   */
  static String capability(String method, String target, String path, Set<String> kvMounts) {
    return switch (method) {
      case "GET" -> target.contains("list=true") ? "list" : "read";
      case "LIST" -> "list";
      case "DELETE" -> "delete";
      case "PATCH" -> "patch";
      case "POST", "PUT" ->
          kvMounts.stream().anyMatch(m -> path.startsWith(m + "/data/")) ? "create" : "update";
      default -> throw new AssertionError("an HTTP method Vault does not map: " + method);
    };
  }

  /**
   * The block Vault applies to {@code path} within one policy: an exact path before any pattern;
   * among patterns the one whose first wildcard comes latest, then one not ending in {@code *},
   * then fewer {@code +} segments, then the longer (Vault's priority rules, simplified to the
   * patterns these policies use).
   */
  static PathBlock mostSpecific(List<PathBlock> blocks, String path) {
    PathBlock best = null;
    for (PathBlock b : blocks) {
      if (!matches(b.path(), path)) {
        continue;
      }
      if (best == null || moreSpecific(b.path(), best.path())) {
        best = b;
      }
    }
    return best;
  }

  private static boolean matches(String pattern, String path) {
    boolean glob = pattern.endsWith("*");
    String body = glob ? pattern.substring(0, pattern.length() - 1) : pattern;
    String[] want = body.split("/", -1);
    String[] have = path.split("/", -1);
    if (!glob && want.length != have.length) {
      return false;
    }
    if (glob && have.length < want.length) {
      return false;
    }
    for (int i = 0; i < want.length; i++) {
      boolean last = i == want.length - 1;
      if (want[i].equals("+")) {
        continue;
      }
      if (glob && last) {
        return have[i].startsWith(want[i]);
      }
      if (!want[i].equals(have[i])) {
        return false;
      }
    }
    return true;
  }

  private static boolean moreSpecific(String a, String b) {
    int wa = firstWildcard(a);
    int wb = firstWildcard(b);
    if (wa != wb) {
      return wa > wb;
    }
    if (a.endsWith("*") != b.endsWith("*")) {
      return !a.endsWith("*");
    }
    long pa = a.chars().filter(c -> c == '+').count();
    long pb = b.chars().filter(c -> c == '+').count();
    if (pa != pb) {
      return pa < pb;
    }
    return a.length() > b.length();
  }

  private static int firstWildcard(String p) {
    int plus = p.indexOf('+');
    int star = p.indexOf('*');
    int first = Math.min(plus < 0 ? Integer.MAX_VALUE : plus, star < 0 ? Integer.MAX_VALUE : star);
    return first;
  }
}
