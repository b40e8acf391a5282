package io.ephemera.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ephemera.activity.vault.VaultProperties;
import io.ephemera.activity.vault.VaultProperties.Auth;
import io.ephemera.activity.vault.VaultProperties.Engine;
import io.ephemera.activity.vault.VaultSession;
import io.ephemera.codec.CodecKeyRing;
import io.ephemera.sandbox.SandboxVault;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What start-up makes of Vault's answers: the key ring, or one message naming the setting, the path
 * and the engine, and never a key. Vault here is {@link SandboxVault} over HTTP, written to through
 * a real session as an operator's {@code vault kv put} would.
 */
class VaultCodecKeySourceTest {
  static final String KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  static final String OTHER = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

  SandboxVault vault;
  VaultProperties login;

  @BeforeEach
  void setUp() {
    vault = SandboxVault.start();
    login =
        new VaultProperties(
            vault.url(),
            null,
            Auth.approle(SandboxVault.APPROLE_ROLE_ID, vault.approleSecretId()),
            null,
            Duration.ofSeconds(2),
            null,
            null,
            null,
            null);
  }

  @AfterEach
  void tearDown() {
    vault.close();
  }

  static CodecProperties codec(String path, Engine engine) {
    return new CodecProperties(true, null, null, path, engine, null, null, null);
  }

  void put(String mount, String path, Map<String, Object> data) {
    try (VaultSession operator = new VaultSession(login)) {
      operator.writeKv2(mount, path, data);
    }
  }

  @Test
  void theKeyRingIsTheSecretsKeysWithItsKeyIdCurrent() {
    put("secret", "ephemera/codec", Map.of("key-id", "2026-01", "2026-01", OTHER, "2025-07", KEY));
    VaultCodecKeySource source =
        new VaultCodecKeySource(codec("secret/ephemera/codec", null), login);

    CodecKeyRing ring = source.keyRing();

    assertThat(ring.currentKeyId()).isEqualTo("2026-01");
    assertThat(ring.keyIds()).containsExactly("2025-07", "2026-01");
    assertThat(vault.requests()).contains("GET /v1/secret/data/ephemera/codec");
    assertThat(source.description())
        .isEqualTo("Vault secret/ephemera/codec (kv2 at mount secret) at " + vault.url());
  }

  @Test
  void aMissingSecretStopsStartUpNamingTheSettingPathAndEngine() {
    VaultCodecKeySource source =
        new VaultCodecKeySource(codec("secret/ephemera/nothing-here", null), login);

    assertThatThrownBy(source::keyRing)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(
            "cannot read the payload codec keys from Vault"
                + " (ephemera.codec.keys-from-vault=secret/ephemera/nothing-here: kv2 at mount"
                + " secret)")
        .hasMessageContaining("Vault has no secret/ephemera/nothing-here")
        .hasMessageContaining("[VaultRoleMissing]");
  }

  @Test
  void aDeniedPathNamesThePathAndEphemerasVaultIdentity() {
    put("secret", "ephemera/codec", Map.of("k", KEY));
    vault.deny("secret/data/ephemera/codec");
    VaultCodecKeySource source =
        new VaultCodecKeySource(codec("secret/ephemera/codec", null), login);

    assertThatThrownBy(source::keyRing)
        .hasMessageContaining("ephemera.codec.keys-from-vault=secret/ephemera/codec")
        .hasMessageContaining("Vault denied read of secret/ephemera/codec")
        .hasMessageContaining("approle auth at auth/approle")
        .hasMessageContaining("[VaultForbidden]")
        .message()
        .doesNotContain(KEY)
        .doesNotContain(vault.approleSecretId());
  }

  @Test
  void anUnreachableVaultSaysSoWithoutPromisingARetry() {
    vault.seal();
    VaultCodecKeySource source =
        new VaultCodecKeySource(codec("secret/ephemera/codec", null), login);

    assertThatThrownBy(source::keyRing)
        .hasMessageContaining("ephemera.codec.keys-from-vault=secret/ephemera/codec")
        .hasMessageContaining("sealed")
        .hasMessageContaining("[VaultUnavailable]")
        .message()
        .doesNotContain("retrying");
  }

  @Test
  void aMalformedSecretNamesTheEntryButNotTheValue() {
    String shortKey = "AAECAwQFBgcICQoLDA0ODw==";
    put("secret", "ephemera/codec", Map.of("key-id", "a", "a", KEY, "b", shortKey));
    VaultCodecKeySource source =
        new VaultCodecKeySource(codec("secret/ephemera/codec", null), login);

    assertThatThrownBy(source::keyRing)
        .hasMessageContaining("ephemera.codec.keys-from-vault=secret/ephemera/codec")
        .hasMessageContaining("the codec key 'b' at secret/ephemera/codec decodes to 16 bytes")
        .message()
        .doesNotContain(shortKey)
        .doesNotContain(KEY);
  }

  @Test
  void aKv1PathIsReadWhereItIsWithoutKv2sDataPrefix() {
    VaultCodecKeySource source =
        new VaultCodecKeySource(codec("kv/ephemera/codec", Engine.KV1), login);

    assertThatThrownBy(source::keyRing)
        .hasMessageContaining("ephemera.codec.keys-from-vault=kv/ephemera/codec: kv1)")
        .hasMessageContaining("Vault has no kv/ephemera/codec");
    assertThat(vault.requests()).contains("GET /v1/kv/ephemera/codec");
  }

  @Test
  void noUsableLoginStopsStartUpSayingWhatToConfigure() {
    VaultProperties noLogin = login.withEndpoint(vault.url(), new Auth(null, null, null, null));
    VaultCodecKeySource source =
        new VaultCodecKeySource(codec("secret/ephemera/codec", null), noLogin);

    assertThatThrownBy(source::keyRing)
        .hasMessageContaining("ephemera.codec.keys-from-vault=secret/ephemera/codec")
        .hasMessageContaining("no Vault login is configured");
  }
}
