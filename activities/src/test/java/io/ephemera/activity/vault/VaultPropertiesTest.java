package io.ephemera.activity.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ephemera.activity.credentials.CredentialPurpose;
import io.ephemera.activity.vault.VaultProperties.AuthMethod;
import io.ephemera.activity.vault.VaultProperties.Engine;
import io.ephemera.activity.vault.VaultProperties.SourceSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** {@code ephemera.vault.*} as Spring binds it. */
class VaultPropertiesTest {
  @TempDir Path dir;

  static VaultProperties bind(Map<String, String> values) {
    return new Binder(new MapConfigurationPropertySource(values))
        .bindOrCreate("ephemera.vault", VaultProperties.class);
  }

  @Test
  void anEmptyConfigurationIsNotConfiguredAndHasTheDefaults() {
    VaultProperties p = bind(Map.of());

    assertThat(p.configured()).isFalse();
    assertThat(p.requestTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(p.auth().kubernetes().mount()).isEqualTo("kubernetes");
    assertThat(p.auth().kubernetes().tokenPath())
        .isEqualTo("/var/run/secrets/kubernetes.io/serviceaccount/token");
    assertThat(p.auth().approle().mount()).isEqualTo("approle");
    assertThat(p.leaseIndex().mount()).isEqualTo("secret");
    assertThat(p.leaseIndex().path()).isEqualTo("ephemera/leases");
    assertThat(p.sources(CredentialPurpose.BUILD, 1, "a/b")).isEmpty();
    assertThat(p.sources(CredentialPurpose.DEPLOY, 1, "a/b")).isEmpty();
  }

  @Test
  void sourcesFillPlaceholdersAndTakeProjectOverrides() {
    Map<String, String> m = new HashMap<>();
    m.put("ephemera.vault.address", "https://vault.example.test:8200/");
    m.put("ephemera.vault.auth.token", "hvs.x");
    m.put("ephemera.vault.build.registry-push.path", "secret/ci/{projectPath}/registry");
    m.put("ephemera.vault.build.build-cache.path", "aws/creds/review-cache");
    m.put("ephemera.vault.build.build-cache.ttl", "15m");
    m.put("ephemera.vault.build.source-read.path", "gitlab/token/{projectId}");
    m.put("ephemera.vault.build.source-read.engine", "dynamic");
    m.put("ephemera.vault.deploy.registry-pull.path", "kv/team/pull");
    m.put("ephemera.vault.deploy.registry-pull.mount", "kv/team");
    m.put("ephemera.vault.projects.[group/special].build.build-cache.path", "aws/creds/special");
    VaultProperties p = bind(m);

    assertThat(p.address()).isEqualTo("https://vault.example.test:8200");
    assertThat(p.sources(CredentialPurpose.BUILD, 42, "group/app"))
        .containsExactly(
            new SourceSpec(
                "registry-push", "secret/ci/group/app/registry", Engine.KV2, "secret", null),
            new SourceSpec(
                "build-cache",
                "aws/creds/review-cache",
                Engine.DYNAMIC,
                null,
                Duration.ofMinutes(15)),
            new SourceSpec("source-read", "gitlab/token/42", Engine.DYNAMIC, null, null));
    assertThat(p.sources(CredentialPurpose.BUILD, 43, "group/special"))
        .extracting(SourceSpec::path)
        .containsExactly(
            "secret/ci/group/special/registry", "aws/creds/special", "gitlab/token/43");
    assertThat(p.sources(CredentialPurpose.DEPLOY, 42, "group/app"))
        .containsExactly(
            new SourceSpec("registry-pull", "kv/team/pull", Engine.KV2, "kv/team", null));
  }

  @Test
  void aPlaceholderThatBreaksThePathIsRefused() {
    VaultProperties p =
        bind(Map.of("ephemera.vault.build.registry-push.path", "secret/{projectPath}/registry"));

    assertThatThrownBy(() -> p.sources(CredentialPurpose.BUILD, 1, "../../sys"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid segment");
  }

  @Test
  void badSettingsFailAtStartUpNamingTheProperty() {
    assertThatThrownBy(() -> bind(Map.of("ephemera.vault.address", "vault:8200")))
        .isInstanceOf(BindException.class)
        .hasRootCauseMessage(
            "ephemera.vault.address must be an http(s) URL such as https://vault.example.com:8200,"
                + " was vault:8200");
    assertThatThrownBy(
            () ->
                bind(
                    Map.of(
                        "ephemera.vault.build.registry-push.path", "secret/r",
                        "ephemera.vault.build.registry-push.ttl", "5m",
                        "ephemera.vault.build.registry-push.engine", "kv2")))
        .isInstanceOf(BindException.class)
        .rootCause()
        .hasMessageContaining("ephemera.vault.build.registry-push.ttl");
  }

  @Test
  void authPrefersKubernetesInClusterThenAppRoleThenToken() throws Exception {
    Path token = Files.writeString(dir.resolve("sa-token"), "jwt");
    Map<String, String> all = new HashMap<>();
    all.put("ephemera.vault.auth.kubernetes.role", "ephemera");
    all.put("ephemera.vault.auth.kubernetes.token-path", token.toString());
    all.put("ephemera.vault.auth.approle.role-id", "rid");
    all.put("ephemera.vault.auth.approle.secret-id", "sid");
    all.put("ephemera.vault.auth.token", "hvs.t");
    assertThat(bind(all).auth().resolve()).isEqualTo(AuthMethod.KUBERNETES);

    all.put("ephemera.vault.auth.kubernetes.token-path", dir.resolve("absent").toString());
    assertThat(bind(all).auth().resolve()).isEqualTo(AuthMethod.APPROLE);

    all.remove("ephemera.vault.auth.approle.role-id");
    assertThat(bind(all).auth().resolve()).isEqualTo(AuthMethod.TOKEN);

    all.put("ephemera.vault.auth.method", "approle");
    assertThatThrownBy(() -> bind(all).auth().resolve())
        .hasMessageContaining("ephemera.vault.auth.approle.role-id");

    assertThatThrownBy(() -> bind(Map.of()).auth().resolve())
        .hasMessageContaining("no Vault login is configured");
  }

  @Test
  void credentialsNeverPrint() {
    VaultProperties p =
        bind(
            Map.of(
                "ephemera.vault.auth.token", "hvs.never-printed",
                "ephemera.vault.auth.approle.role-id", "role-id-never-printed",
                "ephemera.vault.auth.approle.secret-id", "secret-id-never-printed"));

    assertThat(p.toString())
        .doesNotContain("hvs.never-printed")
        .doesNotContain("role-id-never-printed")
        .doesNotContain("secret-id-never-printed")
        .contains("token=(set)");
  }

  @Test
  void theDeploysKubernetesTokenIsARoleOfTheKubernetesEngineOverridablePerProject() {
    Map<String, String> m = new HashMap<>();
    m.put("ephemera.vault.deploy.kubernetes.path", "/k8s/prod/creds/review-deployer/");
    m.put("ephemera.vault.deploy.kubernetes.mount", "k8s/prod");
    m.put("ephemera.vault.deploy.kubernetes.ttl", "30m");
    m.put(
        "ephemera.vault.projects.[group/special].deploy.kubernetes.path",
        "kubernetes/creds/special-{projectId}");
    VaultProperties p = bind(m);

    assertThat(p.hasSources()).isTrue();
    assertThat(p.kubernetesTokenForEveryProject()).isTrue();
    assertThat(p.sources(CredentialPurpose.DEPLOY, 42, "group/app"))
        .containsExactly(
            new SourceSpec(
                "kubernetes",
                "k8s/prod/creds/review-deployer",
                Engine.KUBERNETES,
                "k8s/prod",
                Duration.ofMinutes(30)));
    assertThat(p.sources(CredentialPurpose.DEPLOY, 43, "group/special"))
        .containsExactly(
            new SourceSpec(
                "kubernetes",
                "kubernetes/creds/special-43",
                Engine.KUBERNETES,
                "kubernetes",
                null));
    assertThat(p.sources(CredentialPurpose.BUILD, 42, "group/app")).isEmpty();
  }

  @Test
  void aKubernetesTokenForSomeProjectsOnlyIsNotRequiredEverywhere() {
    VaultProperties p =
        bind(
            Map.of(
                "ephemera.vault.projects.[group/special].deploy.kubernetes.path",
                "kubernetes/creds/special"));

    assertThat(p.kubernetesTokenForEveryProject()).isFalse();
    assertThat(p.kubernetesTokenForAnyProject()).isTrue();
    assertThat(p.sources(CredentialPurpose.DEPLOY, 1, "group/other")).isEmpty();
    assertThat(bind(Map.of()).kubernetesTokenForAnyProject()).isFalse();
  }

  @Test
  void aBadKubernetesTokenSourceFailsAtStartUpNamingTheProperty() {
    assertThatThrownBy(
            () -> bind(Map.of("ephemera.vault.deploy.kubernetes.path", "kubernetes/review")))
        .isInstanceOf(BindException.class)
        .rootCause()
        .hasMessageContaining("ephemera.vault.deploy.kubernetes")
        .hasMessageContaining("<mount>/creds/<role>");
    assertThatThrownBy(
            () ->
                bind(
                    Map.of(
                        "ephemera.vault.deploy.kubernetes.path", "kubernetes/creds/r",
                        "ephemera.vault.deploy.kubernetes.ttl", "5m")))
        .rootCause()
        .hasMessageContaining("ephemera.vault.deploy.kubernetes.ttl must be at least 10m");
    assertThatThrownBy(
            () ->
                bind(
                    Map.of(
                        "ephemera.vault.deploy.kubernetes.path", "kubernetes/creds/r",
                        "ephemera.vault.deploy.kubernetes.engine", "kv2")))
        .rootCause()
        .hasMessageContaining("ephemera.vault.deploy.kubernetes.engine must be kubernetes");
    assertThatThrownBy(
            () ->
                bind(
                    Map.of(
                        "ephemera.vault.deploy.kubernetes.path", "kubernetes/creds/r",
                        "ephemera.vault.deploy.kubernetes.mount", "k8s")))
        .rootCause()
        .hasMessageContaining("not <mount>/creds/<role> under its mount k8s");
    assertThatThrownBy(
            () ->
                bind(
                    Map.of(
                        "ephemera.vault.deploy.registry-pull.path", "kubernetes/creds/r",
                        "ephemera.vault.deploy.registry-pull.engine", "kubernetes")))
        .rootCause()
        .hasMessageContaining("engine kubernetes only applies to ephemera.vault.deploy.kubernetes");
  }
}
