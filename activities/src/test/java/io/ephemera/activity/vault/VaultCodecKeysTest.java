package io.ephemera.activity.vault;

import static io.ephemera.activity.vault.VaultSessionTest.error;
import static io.ephemera.activity.vault.VaultSessionTest.failure;
import static io.ephemera.activity.vault.VaultSessionTest.lookupSelf;
import static io.ephemera.activity.vault.VaultSessionTest.secret;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ephemera.activity.vault.VaultProperties.Auth;
import io.ephemera.activity.vault.VaultProperties.Engine;
import io.ephemera.activity.vault.VaultProperties.SourceSpec;
import io.ephemera.codec.AesGcmPayloadCodec;
import io.ephemera.codec.CodecKeyRing;
import io.temporal.api.common.v1.Payload;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The codec's key ring read through {@link VaultSession} over HTTP from MockWebServer answering
 * with Vault's documented envelopes (the helpers of {@link VaultSessionTest}): the paths each KV
 * version is read at, the errors of a missing or forbidden path, and every malformed secret. No
 * message may carry a key.
 */
class VaultCodecKeysTest {
  static final String KEY_A = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  static final String KEY_B = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
  static final String SHORT = "AAECAwQFBgcICQoLDA0ODw=="; // 16 bytes

  static final SourceSpec KV2 =
      new SourceSpec("codec-keys", "secret/ephemera/codec", Engine.KV2, "secret", null);
  static final SourceSpec KV1 =
      new SourceSpec("codec-keys", "kv/ephemera/codec", Engine.KV1, null, null);

  MockWebServer server;
  VaultSession vault;

  @BeforeEach
  void setUp() throws IOException {
    server = new MockWebServer();
    server.start(InetAddress.getLoopbackAddress(), 0);
    vault =
        new VaultSession(
            new VaultProperties(
                server.url("/").toString(),
                null,
                Auth.token(VaultSessionTest.TOKEN),
                null,
                Duration.ofSeconds(2),
                null,
                null,
                null,
                null),
            new MutableClock(Instant.parse("2026-01-01T00:00:00Z")));
    server.enqueue(lookupSelf(0, false));
  }

  @AfterEach
  void tearDown() {
    vault.close();
    server.close();
  }

  @Test
  void aKv2SecretIsReadAtItsDataPathAndEncryptsWithTheNamedKey() throws Exception {
    server.enqueue(
        secret(
            "",
            0,
            "{\"data\":{\"key-id\":\"2026-01\",\"2026-01\":\""
                + KEY_B
                + "\",\"2025-07\":\""
                + KEY_A
                + "\"},\"metadata\":{\"created_time\":\"2026-01-01T00:00:00Z\",\"version\":4}}"));

    CodecKeyRing ring = VaultCodecKeys.read(vault, KV2);

    take(); // lookup-self
    RecordedRequest read = take();
    assertThat(read.getMethod()).isEqualTo("GET");
    assertThat(read.getUrl().encodedPath()).isEqualTo("/v1/secret/data/ephemera/codec");
    assertThat(read.getHeaders().get("X-Vault-Token")).isEqualTo(VaultSessionTest.TOKEN);
    assertThat(ring.currentKeyId()).isEqualTo("2026-01");
    assertThat(ring.keyIds()).containsExactly("2025-07", "2026-01");
    // The material is Vault's: a payload written with KEY_B under its id decodes with this ring.
    assertThat(decodes(ring, "2026-01", KEY_B)).isTrue();
    assertThat(decodes(ring, "2025-07", KEY_A)).isTrue();
    assertThat(ring.toString()).doesNotContain(KEY_A).doesNotContain(KEY_B);
  }

  @Test
  void aKv1SecretIsReadAtItsOwnPathAndALoneKeyIsCurrent() throws Exception {
    server.enqueue(secret("", 2764800, "{\"only\":\"" + KEY_A + "\"}"));

    CodecKeyRing ring = VaultCodecKeys.read(vault, KV1);

    take();
    // A KV v2 client (the driver's default) would have sent /v1/kv/data/ephemera/codec.
    assertThat(take().getUrl().encodedPath()).isEqualTo("/v1/kv/ephemera/codec");
    assertThat(ring.currentKeyId()).isEqualTo("only");
    assertThat(decodes(ring, "only", KEY_A)).isTrue();
  }

  @Test
  void aKv2MountDeeperThanOneSegmentIsReadWithItsDepth() throws Exception {
    server.enqueue(
        secret("", 0, "{\"data\":{\"k\":\"" + KEY_A + "\"},\"metadata\":{\"version\":1}}"));

    VaultCodecKeys.read(
        vault, new SourceSpec("codec-keys", "kv/team-a/codec", Engine.KV2, "kv/team-a", null));

    take();
    assertThat(take().getUrl().encodedPath()).isEqualTo("/v1/kv/team-a/data/codec");
  }

  @Test
  void aMissingPathIsVaultRoleMissingNamingThePath() {
    // What KV answers for a path holding no secret.
    server.enqueue(VaultSessionTest.json(404, "{\"errors\":[]}"));

    ApplicationFailure f = failure(() -> VaultCodecKeys.read(vault, KV2));

    assertThat(f.getType()).isEqualTo("VaultRoleMissing");
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage())
        .contains("secret/ephemera/codec")
        .contains("the configured Vault token");
  }

  @Test
  void aForbiddenPathIsVaultForbiddenNamingThePathAndTheIdentity() {
    server.enqueue(error(403, "1 error occurred:\n\t* permission denied\n\n"));

    ApplicationFailure f = failure(() -> VaultCodecKeys.read(vault, KV2));

    assertThat(f.getType()).isEqualTo("VaultForbidden");
    assertThat(f.getOriginalMessage())
        .contains("secret/ephemera/codec")
        .contains("permission denied")
        .contains("the configured Vault token")
        .doesNotContain(VaultSessionTest.TOKEN);
  }

  @Test
  void aKeyThatIsNot32BytesOfBase64IsRefusedNamingItsIdButNotItsValue() {
    server.enqueue(kv2("{\"key-id\":\"a\",\"a\":\"" + KEY_A + "\",\"b\":\"" + SHORT + "\"}"));
    server.enqueue(kv2("{\"key-id\":\"a\",\"a\":\"" + KEY_A + "\",\"c\":\"not base64!\"}"));

    assertThatThrownBy(() -> VaultCodecKeys.read(vault, KV2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the codec key 'b' at secret/ephemera/codec decodes to 16 bytes")
        .hasMessageContaining("exactly 32")
        .message()
        .doesNotContain(SHORT)
        .doesNotContain(KEY_A);
    assertThatThrownBy(() -> VaultCodecKeys.read(vault, KV2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the codec key 'c' at secret/ephemera/codec is not valid base64")
        .message()
        .doesNotContain("not base64!");
  }

  @Test
  void aKeyIdNamingNoKeyIsRefusedListingTheIdsThereAre() {
    server.enqueue(kv2("{\"key-id\":\"2026-02\",\"2026-01\":\"" + KEY_A + "\"}"));

    assertThatThrownBy(() -> VaultCodecKeys.read(vault, KV2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'key-id' entry of the codec key secret at secret/ephemera/codec")
        .hasMessageContaining("names '2026-02', which is not among its keys [2026-01]")
        .message()
        .doesNotContain(KEY_A);
  }

  // ---- the secret's shape, without HTTP ----

  @Test
  void severalKeysNeedAKeyId() {
    assertThatThrownBy(() -> VaultCodecKeys.keyRing("p/q", Map.of("a", KEY_A, "b", KEY_B)))
        .hasMessageContaining("holds 2 keys [a, b] but no 'key-id' entry");
  }

  @Test
  void aSecretWithoutKeysIsRefused() {
    assertThatThrownBy(() -> VaultCodecKeys.keyRing("p/q", Map.of("key-id", "a")))
        .hasMessageContaining("the codec key secret at p/q holds no key");
    assertThatThrownBy(() -> VaultCodecKeys.keyRing("p/q", Map.of()))
        .hasMessageContaining("holds no key");
  }

  @Test
  void aKeyWrittenAsANameOrAsTheKeyIdIsNeverPrinted() {
    // Key and id swapped: the name is key material, which must not reach a log line.
    assertThatThrownBy(() -> VaultCodecKeys.keyRing("p/q", Map.of(KEY_A, "a")))
        .hasMessageContaining("an entry whose name is not a key id")
        .message()
        .doesNotContain(KEY_A);
    assertThatThrownBy(() -> VaultCodecKeys.keyRing("p/q", Map.of("key-id", KEY_B, "a", KEY_A)))
        .hasMessageContaining("names a key that is not among its keys [a]")
        .message()
        .doesNotContain(KEY_B)
        .doesNotContain(KEY_A);
  }

  @Test
  void aDynamicEngineIsNotAKeySource() {
    assertThatThrownBy(
            () ->
                VaultCodecKeys.read(
                    vault, new SourceSpec("codec-keys", "aws/creds/x", Engine.DYNAMIC, null, null)))
        .hasMessageContaining("KV secret");
    assertThat(server.getRequestCount()).isZero();
  }

  // ---- helpers ----

  static mockwebserver3.MockResponse kv2(String data) {
    return secret("", 0, "{\"data\":" + data + ",\"metadata\":{\"version\":1}}");
  }

  /** Whether a payload encrypted with {@code key} under {@code id} decodes with {@code ring}. */
  static boolean decodes(CodecKeyRing ring, String id, String key) {
    Payload plain = DefaultDataConverter.STANDARD_INSTANCE.toPayload("probe").orElseThrow();
    Payload encrypted =
        new AesGcmPayloadCodec(CodecKeyRing.of(id, Map.of(id, Base64.getDecoder().decode(key))))
            .encode(List.of(plain))
            .getFirst();
    return new AesGcmPayloadCodec(ring).decode(List.of(encrypted)).getFirst().equals(plain);
  }

  RecordedRequest take() throws InterruptedException {
    RecordedRequest r = server.takeRequest(2, TimeUnit.SECONDS);
    assertThat(r).as("a request to the fake Vault").isNotNull();
    return r;
  }
}
