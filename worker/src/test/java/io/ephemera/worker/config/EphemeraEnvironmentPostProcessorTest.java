package io.ephemera.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ephemera.worker.config.EphemeraEnvironmentPostProcessor.MissingConfigurationException;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.mock.env.MockEnvironment;

class EphemeraEnvironmentPostProcessorTest {
  private final EphemeraEnvironmentPostProcessor processor = new EphemeraEnvironmentPostProcessor();

  private static MockEnvironment production() {
    return productionWithoutCodecKeys().withProperty("ephemera.codec.keys.k1", KEY);
  }

  private static MockEnvironment productionWithoutCodecKeys() {
    return new MockEnvironment()
        .withProperty("ephemera.gitlab.url", "https://gitlab.example.test")
        .withProperty("ephemera.gitlab.token", "glpat-test")
        .withProperty("ephemera.gitlab.webhook-token", "hook-secret")
        .withProperty("ephemera.api.tokens", "api-secret")
        .withProperty("ephemera.vault.address", "https://vault.example.test:8200");
  }

  /** 32 bytes, base64: a valid AES-256 key for the codec settings. */
  private static final String KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

  private static MockEnvironment local() {
    MockEnvironment env = new MockEnvironment();
    env.setActiveProfiles("local");
    return env;
  }

  private void process(MockEnvironment env) {
    processor.postProcessEnvironment(env, new SpringApplication());
  }

  @Test
  void outsideLocalAMissingTemporalTargetStopsStartUpNamingTheProperty() {
    assertThatThrownBy(() -> process(production()))
        .isInstanceOf(MissingConfigurationException.class)
        .hasMessageContaining("ephemera.temporal.target");
  }

  @Test
  void aConfiguredTargetBecomesTheStartersTarget() {
    MockEnvironment env = production().withProperty("ephemera.temporal.target", "temporal:7233");
    process(env);
    assertThat(env.getProperty("spring.temporal.connection.target")).isEqualTo("temporal:7233");
    assertThat(env.getProperty("ephemera.temporal.embedded")).isEqualTo("false");
    assertThat(env.getProperty("ephemera.kubernetes.sandbox")).isEqualTo("false");
  }

  @Test
  void localWithoutATargetGetsTheEmbeddedServerOnLoopback() {
    MockEnvironment env = local();
    process(env);
    assertThat(env.getProperty("spring.temporal.connection.target")).isEqualTo("127.0.0.1:7233");
    assertThat(env.getProperty("ephemera.temporal.embedded")).isEqualTo("true");
    assertThat(env.getProperty("ephemera.kubernetes.sandbox")).isEqualTo("true");
  }

  @Test
  void localWithATargetUsesIt() {
    MockEnvironment env = local().withProperty("ephemera.temporal.target", "temporal:7233");
    process(env);
    assertThat(env.getProperty("spring.temporal.connection.target")).isEqualTo("temporal:7233");
    assertThat(env.getProperty("ephemera.temporal.embedded")).isEqualTo("false");
  }

  @Test
  void embeddedPortZeroPicksAFreePort() {
    MockEnvironment env = local().withProperty("ephemera.temporal.embedded-port", "0");
    process(env);
    int port = env.getRequiredProperty("ephemera.temporal.embedded-port", Integer.class);
    assertThat(port).isPositive();
    assertThat(env.getProperty("spring.temporal.connection.target")).isEqualTo("127.0.0.1:" + port);
  }

  @Test
  void theSandboxClusterIsRefusedOutsideLocal() {
    MockEnvironment env =
        production()
            .withProperty("ephemera.temporal.target", "temporal:7233")
            .withProperty("ephemera.kubernetes.sandbox", "true");
    assertThatThrownBy(() -> process(env))
        .isInstanceOf(MissingConfigurationException.class)
        .hasMessageContaining("ephemera.kubernetes.sandbox");
  }

  @Test
  void outsideLocalTheApiRoleNeedsApiAndWebhookTokens() {
    MockEnvironment noApiToken =
        new MockEnvironment()
            .withProperty("ephemera.temporal.target", "temporal:7233")
            .withProperty("ephemera.gitlab.url", "https://gitlab.example.test")
            .withProperty("ephemera.gitlab.token", "glpat-test")
            .withProperty("ephemera.gitlab.webhook-token", "hook-secret")
            .withProperty("ephemera.vault.address", "https://vault.example.test:8200");
    assertThatThrownBy(() -> process(noApiToken)).hasMessageContaining("ephemera.api.tokens");

    MockEnvironment noWebhookToken =
        new MockEnvironment()
            .withProperty("ephemera.temporal.target", "temporal:7233")
            .withProperty("ephemera.gitlab.url", "https://gitlab.example.test")
            .withProperty("ephemera.gitlab.token", "glpat-test")
            .withProperty("ephemera.api.tokens", "api-secret")
            .withProperty("ephemera.vault.address", "https://vault.example.test:8200");
    assertThatThrownBy(() -> process(noWebhookToken))
        .hasMessageContaining("ephemera.gitlab.webhook-token");
  }

  @Test
  void aWorkerOnlyProcessNeedsNoApiTokens() {
    MockEnvironment env =
        new MockEnvironment()
            .withProperty("ephemera.roles", "worker")
            .withProperty("ephemera.gitlab.url", "https://gitlab.example.test")
            .withProperty("ephemera.gitlab.token", "glpat-test")
            .withProperty("ephemera.vault.address", "https://vault.example.test:8200")
            .withProperty("ephemera.temporal.target", "temporal:7233")
            .withProperty("ephemera.codec.keys.k1", KEY);
    process(env);
    assertThat(env.getProperty("ephemera.api.tokens")).isNull();
  }

  @Test
  void outsideLocalAMissingGitLabUrlStopsStartUp() {
    MockEnvironment env =
        new MockEnvironment()
            .withProperty("ephemera.temporal.target", "temporal:7233")
            .withProperty("ephemera.api.tokens", "api-secret")
            .withProperty("ephemera.gitlab.webhook-token", "hook-secret");
    assertThatThrownBy(() -> process(env))
        .isInstanceOf(MissingConfigurationException.class)
        .hasMessageContaining("ephemera.gitlab.url");
  }

  @Test
  void aGitLabUrlWithoutATokenStopsStartUp() {
    MockEnvironment env =
        local().withProperty("ephemera.gitlab.url", "https://gitlab.example.test");
    assertThatThrownBy(() -> process(env)).hasMessageContaining("ephemera.gitlab.token");
  }

  @Test
  void localWithoutGitLabOrEc2GetsTheirSandboxes() {
    MockEnvironment env = local();
    process(env);
    assertThat(env.getProperty("ephemera.gitlab.sandbox")).isEqualTo("true");
    assertThat(env.getProperty("ephemera.runners.ec2.sandbox")).isEqualTo("true");
  }

  @Test
  void configuredGitLabAndEc2AreUsedEvenInLocal() {
    MockEnvironment env =
        local()
            .withProperty("ephemera.gitlab.url", "https://gitlab.example.test")
            .withProperty("ephemera.gitlab.token", "glpat-test")
            .withProperty("ephemera.runners.ec2.region", "eu-west-1");
    process(env);
    assertThat(env.getProperty("ephemera.gitlab.sandbox")).isEqualTo("false");
    assertThat(env.getProperty("ephemera.runners.ec2.sandbox")).isEqualTo("false");
  }

  @Test
  void outsideLocalAWorkerWithoutAVaultAddressStopsStartUp() {
    MockEnvironment noVault =
        new MockEnvironment()
            .withProperty("ephemera.temporal.target", "temporal:7233")
            .withProperty("ephemera.gitlab.url", "https://gitlab.example.test")
            .withProperty("ephemera.gitlab.token", "glpat-test")
            .withProperty("ephemera.gitlab.webhook-token", "hook-secret")
            .withProperty("ephemera.api.tokens", "api-secret")
            .withProperty("ephemera.codec.keys.k1", KEY);
    assertThatThrownBy(() -> process(noVault))
        .isInstanceOf(MissingConfigurationException.class)
        .hasMessageContaining("ephemera.vault.address");

    // An api-only process issues no credentials and needs no Vault.
    process(noVault.withProperty("ephemera.roles", "api"));
    assertThat(noVault.getProperty("ephemera.vault.sandbox")).isEqualTo("false");
  }

  @Test
  void localWithoutAVaultAddressGetsTheSandboxVaultAndAConfiguredOneWins() {
    MockEnvironment env = local();
    process(env);
    assertThat(env.getProperty("ephemera.vault.sandbox")).isEqualTo("true");

    MockEnvironment real = local().withProperty("ephemera.vault.address", "https://vault:8200");
    process(real);
    assertThat(real.getProperty("ephemera.vault.sandbox")).isEqualTo("false");
  }

  @Test
  void aConfiguredVaultIsNoSandboxOutsideLocal() {
    MockEnvironment env = production().withProperty("ephemera.temporal.target", "temporal:7233");
    process(env);
    assertThat(env.getProperty("ephemera.vault.sandbox")).isEqualTo("false");
  }

  @Test
  void localWithoutARegistryGetsTheSandboxRegistryAsTheReviewRegistry() {
    MockEnvironment env = local();
    process(env);
    assertThat(env.getProperty("ephemera.sandbox.registry.enabled")).isEqualTo("true");
    int port = env.getRequiredProperty("ephemera.sandbox.registry.port", Integer.class);
    assertThat(port).isPositive();
    assertThat(env.getProperty("ephemera.review.registry")).isEqualTo("127.0.0.1:" + port);
  }

  @Test
  void aConfiguredRegistryIsUsedEvenInLocalAndNeverSandboxedElsewhere() {
    MockEnvironment env = local().withProperty("ephemera.review.registry", "registry.example.test");
    process(env);
    assertThat(env.getProperty("ephemera.sandbox.registry.enabled")).isEqualTo("false");
    assertThat(env.getProperty("ephemera.review.registry")).isEqualTo("registry.example.test");

    MockEnvironment prod = production().withProperty("ephemera.temporal.target", "temporal:7233");
    process(prod);
    assertThat(prod.getProperty("ephemera.sandbox.registry.enabled")).isEqualTo("false");
    assertThat(prod.getProperty("ephemera.review.registry")).isNull();
  }

  @Test
  void localGeneratesAnApiTokenWhenNoneIsSet() {
    MockEnvironment env = local();
    process(env);
    assertThat(env.getProperty("ephemera.api.tokens")).startsWith("local-").hasSizeGreaterThan(30);
    assertThat(env.getProperty("ephemera.api.generated-token")).isEqualTo("true");
  }

  @Test
  void anUnknownRoleIsRefused() {
    MockEnvironment env = local().withProperty("ephemera.roles", "api,wroker");
    assertThatThrownBy(() -> process(env)).hasMessageContaining("wroker");
  }

  @Test
  void outsideLocalPayloadEncryptionIsOnByDefault() {
    MockEnvironment env = production().withProperty("ephemera.temporal.target", "temporal:7233");
    process(env);
    assertThat(env.getProperty("ephemera.codec.enabled")).isEqualTo("true");
  }

  @Test
  void outsideLocalEncryptionWithoutKeysStopsStartUpSayingWhatToSet() {
    MockEnvironment withoutKeys =
        productionWithoutCodecKeys().withProperty("ephemera.temporal.target", "temporal:7233");
    assertThatThrownBy(() -> process(withoutKeys))
        .isInstanceOf(MissingConfigurationException.class)
        .hasMessageContaining("ephemera.codec.enabled is true (the default outside the 'local'")
        .hasMessageContaining("ephemera.codec.keys.<id>")
        .hasMessageContaining("ephemera.codec.keys-from-vault");
  }

  @Test
  void outsideLocalAVaultPathCountsAsKeysAndEncryptionCanBeTurnedOffExplicitly() {
    MockEnvironment vault =
        productionWithoutCodecKeys()
            .withProperty("ephemera.temporal.target", "temporal:7233")
            .withProperty("ephemera.codec.keys-from-vault", "secret/data/ephemera/codec");
    process(vault);
    assertThat(vault.getProperty("ephemera.codec.enabled")).isEqualTo("true");

    MockEnvironment off =
        productionWithoutCodecKeys()
            .withProperty("ephemera.temporal.target", "temporal:7233")
            .withProperty("ephemera.codec.enabled", "false");
    process(off);
    assertThat(off.getProperty("ephemera.codec.enabled")).isEqualTo("false");
  }

  @Test
  void localLeavesEncryptionOffUnlessAskedAndThenNeedsKeysToo() {
    MockEnvironment plain = local();
    process(plain);
    assertThat(plain.getProperty("ephemera.codec.enabled")).isEqualTo("false");

    MockEnvironment asked = local().withProperty("ephemera.codec.enabled", "true");
    assertThatThrownBy(() -> process(asked))
        .isInstanceOf(MissingConfigurationException.class)
        .hasMessageContaining("ephemera.codec.enabled is true but no key is configured");

    MockEnvironment withKey =
        local()
            .withProperty("ephemera.codec.enabled", "true")
            .withProperty("ephemera.codec.keys.k1", KEY);
    process(withKey);
    assertThat(withKey.getProperty("ephemera.codec.enabled")).isEqualTo("true");
  }

  @Test
  void keysFromVaultNeedAVaultAddressInEveryRoleAndProfile() {
    MockEnvironment withoutVault =
        new MockEnvironment()
            .withProperty("ephemera.temporal.target", "temporal:7233")
            .withProperty("ephemera.roles", "api")
            .withProperty("ephemera.gitlab.url", "https://gitlab.example.test")
            .withProperty("ephemera.gitlab.token", "glpat-test")
            .withProperty("ephemera.gitlab.webhook-token", "hook-secret")
            .withProperty("ephemera.api.tokens", "api-secret")
            .withProperty("ephemera.codec.keys-from-vault", "secret/ephemera/codec");
    // An api-only process needs no Vault for anything else, but it encrypts too.
    assertThatThrownBy(() -> process(withoutVault))
        .isInstanceOf(MissingConfigurationException.class)
        .hasMessageContaining("ephemera.codec.keys-from-vault (secret/ephemera/codec) is set")
        .hasMessageContaining("ephemera.vault.address is not")
        .hasMessageContaining("api as well as worker");

    MockEnvironment localWithoutVault =
        local()
            .withProperty("ephemera.codec.enabled", "true")
            .withProperty("ephemera.codec.keys-from-vault", "secret/ephemera/codec");
    assertThatThrownBy(() -> process(localWithoutVault))
        .isInstanceOf(MissingConfigurationException.class)
        .hasMessageContaining("ephemera.vault.address is not")
        .hasMessageContaining("the sandbox Vault of the 'local' profile does not hold codec keys");

    MockEnvironment localWithVault =
        local()
            .withProperty("ephemera.codec.enabled", "true")
            .withProperty("ephemera.codec.keys-from-vault", "secret/ephemera/codec")
            .withProperty("ephemera.vault.address", "http://127.0.0.1:8200");
    process(localWithVault);
    assertThat(localWithVault.getProperty("ephemera.codec.enabled")).isEqualTo("true");
    assertThat(localWithVault.getProperty("ephemera.vault.sandbox")).isEqualTo("false");

    // With encryption off the path is not used, so it needs nothing.
    MockEnvironment off =
        local().withProperty("ephemera.codec.keys-from-vault", "secret/ephemera/codec");
    process(off);
    assertThat(off.getProperty("ephemera.codec.enabled")).isEqualTo("false");
  }
}
