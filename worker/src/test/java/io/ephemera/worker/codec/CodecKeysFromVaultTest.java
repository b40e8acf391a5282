package io.ephemera.worker.codec;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.ephemera.activity.vault.VaultProperties;
import io.ephemera.activity.vault.VaultProperties.Auth;
import io.ephemera.activity.vault.VaultSession;
import io.ephemera.codec.AesGcmPayloadCodec;
import io.ephemera.codec.CodecKeyRing;
import io.ephemera.sandbox.SandboxVault;
import io.ephemera.worker.EphemeraApplication;
import io.ephemera.worker.config.EphemeraWorker;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.history.v1.History;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The codec's keys from Vault in the running application, in the harder of the two roles: an
 * api-only process, which has no Vault wiring of its own, logs in with {@code ephemera.vault.*},
 * reads the KV v2 secret at {@code ephemera.codec.keys-from-vault} at start-up, and its Temporal
 * client encrypts with the key the secret names. Vault is the sandbox Vault running as a separate
 * HTTP server, configured as a real one ({@code ephemera.vault.address}).
 */
class CodecKeysFromVaultTest {
  static final String CURRENT_KEY = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
  static final String RETIRED_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  static final String CURRENT_ID = "vault-2026-01";

  static SandboxVault vault;
  static ConfigurableApplicationContext context;

  @BeforeAll
  static void start() {
    vault = SandboxVault.start();
    // What an operator does once: `vault kv put secret/ephemera/codec key-id=... <id>=...`.
    VaultProperties operator =
        new VaultProperties(
            vault.url(),
            null,
            Auth.approle(SandboxVault.APPROLE_ROLE_ID, vault.approleSecretId()),
            null,
            Duration.ofSeconds(5),
            null,
            null,
            null,
            null);
    try (VaultSession session = new VaultSession(operator)) {
      session.writeKv2(
          "secret",
          "ephemera/codec",
          Map.of("key-id", CURRENT_ID, CURRENT_ID, CURRENT_KEY, "vault-2025-07", RETIRED_KEY));
    }
    // Built by hand rather than by @SpringBootTest: the Vault address is known only now, and
    // EphemeraEnvironmentPostProcessor (which checks it) runs before a @DynamicPropertySource is
    // added to the environment.
    context =
        new SpringApplicationBuilder(EphemeraApplication.class)
            .profiles("local")
            // As command-line arguments, which win over application.yaml (roles: api,worker).
            .run(
                "--server.port=0",
                "--ephemera.temporal.embedded-port=0",
                "--ephemera.roles=api",
                "--ephemera.codec.enabled=true",
                "--ephemera.codec.keys-from-vault=secret/ephemera/codec",
                "--ephemera.vault.address=" + vault.url(),
                "--ephemera.vault.auth.approle.role-id=" + SandboxVault.APPROLE_ROLE_ID,
                "--ephemera.vault.auth.approle.secret-id=" + vault.approleSecretId());
  }

  @AfterAll
  static void stop() {
    if (context != null) {
      context.close();
    }
    if (vault != null) {
      vault.close();
    }
  }

  @Test
  void anApiOnlyProcessEncryptsWithTheKeyItReadFromVault() {
    WorkflowClient temporal = context.getBean(WorkflowClient.class);
    WorkflowServiceStubs stubs = context.getBean(WorkflowServiceStubs.class);
    AesGcmPayloadCodec codec = context.getBean(AesGcmPayloadCodec.class);
    assertThat(context.getBeansOfType(EphemeraWorker.class)).isEmpty();
    assertThat(context.getBeansOfType(VaultSession.class)).isEmpty();
    assertThat(vault.requests())
        .contains("POST /v1/auth/approle/login", "GET /v1/secret/data/ephemera/codec");

    // The client encrypts a workflow's input as it starts it: no worker needs to run it.
    String marker = "codec-vault-" + UUID.randomUUID();
    WorkflowExecution started =
        temporal
            .newUntypedWorkflowStub(
                "CodecVaultProbe",
                WorkflowOptions.newBuilder()
                    .setWorkflowId("codec-vault-probe/" + marker)
                    .setTaskQueue("ephemera-codec-vault-probe")
                    .build())
            .start(marker);

    History history =
        stubs
            .blockingStub()
            .getWorkflowExecutionHistory(
                GetWorkflowExecutionHistoryRequest.newBuilder()
                    .setNamespace(temporal.getOptions().getNamespace())
                    .setExecution(started)
                    .build())
            .getHistory();
    Payload input =
        history.getEvents(0).getWorkflowExecutionStartedEventAttributes().getInput().getPayloads(0);
    assertThat(AesGcmPayloadCodec.isEncrypted(input)).isTrue();
    ByteString keyId = input.getMetadataMap().get("encryption-key-id");
    assertThat(keyId).isNotNull();
    assertThat(keyId.toStringUtf8()).isEqualTo(CURRENT_ID);
    assertThat(new String(history.toByteArray(), StandardCharsets.ISO_8859_1))
        .doesNotContain(marker);

    // Encrypted with Vault's key material, not just under its id: a ring holding only that key
    // reads it back.
    AesGcmPayloadCodec vaultKeyOnly =
        new AesGcmPayloadCodec(
            CodecKeyRing.of(
                CURRENT_ID, Map.of(CURRENT_ID, Base64.getDecoder().decode(CURRENT_KEY))));
    Payload plain = vaultKeyOnly.decode(List.of(input)).getFirst();
    assertThat(
            DefaultDataConverter.STANDARD_INSTANCE.fromPayload(plain, String.class, String.class))
        .isEqualTo(marker);
    // And the retired key from the same secret still decrypts.
    Payload older =
        new AesGcmPayloadCodec(
                CodecKeyRing.of(
                    "vault-2025-07",
                    Map.of("vault-2025-07", Base64.getDecoder().decode(RETIRED_KEY))))
            .encode(List.of(plain))
            .getFirst();
    assertThat(codec.decode(List.of(older)).getFirst()).isEqualTo(plain);
  }
}
