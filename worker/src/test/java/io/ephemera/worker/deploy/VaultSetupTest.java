package io.ephemera.worker.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
class VaultSetupTest {
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
    assertThat(chart.property("ephemera.vault.auth.role")).isNull(); // no Vault unless configured
    RenderedChart withVault =
        RenderedChart.render(Map.of("vault.address", "https://vault.example.com"));
    String role = (String) withVault.property("ephemera.vault.auth.role");
    assertThat(script).contains("auth/kubernetes/role/" + role, "auth/approle/role/" + role);
  }
}
