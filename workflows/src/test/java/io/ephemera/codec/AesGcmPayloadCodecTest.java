package io.ephemera.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.temporal.api.common.v1.Payload;
import io.temporal.common.converter.CodecDataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import io.temporal.payload.codec.PayloadCodecException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AesGcmPayloadCodecTest {
  private static final byte[] OLD = key(1);
  private static final byte[] NEW = key(2);

  private static final Payload JSON =
      Payload.newBuilder()
          .putMetadata("encoding", ByteString.copyFromUtf8("json/plain"))
          .setData(
              ByteString.copyFromUtf8("{\"sha\":\"da1560886d4f094c3e6c9ef40349f7d38b5d27d7\"}"))
          .build();

  @Test
  void encryptsTheWholePayloadAndDecryptsItBack() {
    AesGcmPayloadCodec codec = new AesGcmPayloadCodec(CodecKeyRing.of("k1", Map.of("k1", OLD)));

    Payload encrypted = codec.encode(List.of(JSON)).getFirst();

    assertThat(encrypted.getMetadataMap())
        .containsOnlyKeys("encoding", "encryption-key-id")
        .containsEntry("encoding", ByteString.copyFromUtf8("binary/encrypted"))
        .containsEntry("encryption-key-id", ByteString.copyFromUtf8("k1"));
    String raw = encrypted.getData().toString(StandardCharsets.ISO_8859_1);
    assertThat(raw).doesNotContain("da1560886d4f").doesNotContain("json/plain");
    // nonce + serialised payload + 16-byte tag
    assertThat(encrypted.getData().size()).isEqualTo(12 + JSON.getSerializedSize() + 16);
    assertThat(codec.decode(List.of(encrypted))).containsExactly(JSON);
  }

  @Test
  void afterRotationTheOldKeyStillDecryptsAndTheNewKeyEncrypts() {
    AesGcmPayloadCodec before = new AesGcmPayloadCodec(CodecKeyRing.of("k1", Map.of("k1", OLD)));
    Payload writtenBefore = before.encode(List.of(JSON)).getFirst();

    AesGcmPayloadCodec after =
        new AesGcmPayloadCodec(CodecKeyRing.of("k2", ordered("k1", OLD, "k2", NEW)));
    Payload writtenAfter = after.encode(List.of(JSON)).getFirst();

    assertThat(writtenAfter.getMetadataMap().get("encryption-key-id").toStringUtf8())
        .isEqualTo("k2");
    assertThat(after.decode(List.of(writtenBefore, writtenAfter))).containsExactly(JSON, JSON);
    // The retired key alone cannot read what the new one wrote, and says which key it needs.
    assertThatThrownBy(() -> before.decode(List.of(writtenAfter)))
        .isInstanceOf(PayloadCodecException.class)
        .hasMessageContaining("'k2'")
        .hasMessageContaining("[k1]");
  }

  @Test
  void aTamperedCiphertextFailsAuthenticationNamingTheKeyId() {
    AesGcmPayloadCodec codec = new AesGcmPayloadCodec(CodecKeyRing.of("k1", Map.of("k1", OLD)));
    Payload encrypted = codec.encode(List.of(JSON)).getFirst();
    byte[] data = encrypted.getData().toByteArray();
    data[20] ^= 0x01;
    Payload tampered = encrypted.toBuilder().setData(ByteString.copyFrom(data)).build();

    assertThatThrownBy(() -> codec.decode(List.of(tampered)))
        .isInstanceOf(PayloadCodecException.class)
        .hasMessageContaining("failed authentication with key 'k1'")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(base64(OLD)));
  }

  @Test
  void relabellingAPayloadWithAnotherKeyIdFailsAuthentication() {
    byte[] same = OLD;
    AesGcmPayloadCodec codec =
        new AesGcmPayloadCodec(CodecKeyRing.of("k1", ordered("k1", OLD, "k2", same)));
    Payload encrypted = codec.encode(List.of(JSON)).getFirst();
    Payload relabelled =
        encrypted.toBuilder()
            .putMetadata("encryption-key-id", ByteString.copyFromUtf8("k2"))
            .build();

    assertThatThrownBy(() -> codec.decode(List.of(relabelled)))
        .isInstanceOf(PayloadCodecException.class)
        .hasMessageContaining("'k2'");
  }

  @Test
  void aTruncatedCiphertextIsAClearError() {
    AesGcmPayloadCodec codec = new AesGcmPayloadCodec(CodecKeyRing.of("k1", Map.of("k1", OLD)));
    Payload encrypted = codec.encode(List.of(JSON)).getFirst();
    Payload truncated = encrypted.toBuilder().setData(encrypted.getData().substring(0, 20)).build();

    assertThatThrownBy(() -> codec.decode(List.of(truncated)))
        .isInstanceOf(PayloadCodecException.class)
        .hasMessageContaining("too short");
  }

  @Test
  void payloadsThatAreNotEncryptedPassThroughUnchanged() {
    AesGcmPayloadCodec codec = new AesGcmPayloadCodec(CodecKeyRing.of("k1", Map.of("k1", OLD)));
    Payload nullPayload =
        Payload.newBuilder()
            .putMetadata("encoding", ByteString.copyFromUtf8("binary/null"))
            .build();
    Payload noMetadata = Payload.newBuilder().setData(ByteString.copyFromUtf8("x")).build();

    assertThat(codec.decode(List.of(JSON, nullPayload, noMetadata)))
        .containsExactly(JSON, nullPayload, noMetadata);
  }

  @Test
  void anUnknownKeyIdIsAnErrorNamingIt() {
    AesGcmPayloadCodec writer =
        new AesGcmPayloadCodec(CodecKeyRing.of("gone", Map.of("gone", OLD)));
    AesGcmPayloadCodec reader = new AesGcmPayloadCodec(CodecKeyRing.of("k2", Map.of("k2", NEW)));
    Payload encrypted = writer.encode(List.of(JSON)).getFirst();

    assertThatThrownBy(() -> reader.decode(List.of(encrypted)))
        .isInstanceOf(PayloadCodecException.class)
        .hasMessageContaining("encrypted with key 'gone'")
        .hasMessageContaining("not in this key ring [k2]");
    Payload withoutKeyId = encrypted.toBuilder().removeMetadata("encryption-key-id").build();
    assertThatThrownBy(() -> reader.decode(List.of(withoutKeyId)))
        .isInstanceOf(PayloadCodecException.class)
        .hasMessageContaining("no 'encryption-key-id'");
  }

  @Test
  void everyEncryptionUsesAFreshNonce() {
    AesGcmPayloadCodec codec = new AesGcmPayloadCodec(CodecKeyRing.of("k1", Map.of("k1", OLD)));
    Set<ByteString> nonces = new HashSet<>();
    Set<ByteString> ciphertexts = new HashSet<>();
    int n = 2_000;
    for (int i = 0; i < n; i++) {
      ByteString data = codec.encode(List.of(JSON)).getFirst().getData();
      nonces.add(data.substring(0, 12));
      ciphertexts.add(data);
    }
    assertThat(nonces).hasSize(n);
    assertThat(ciphertexts).hasSize(n);
  }

  @Test
  void keyMaterialIsValidatedWithClearMessages() {
    assertThatThrownBy(() -> CodecKeyRing.of("k1", Map.of("k1", new byte[16])))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key 'k1' is 16 bytes long")
        .hasMessageContaining("exactly 32 bytes");
    assertThatThrownBy(() -> CodecKeyRing.of("k1", Map.of("k1", new byte[33])))
        .hasMessageContaining("33 bytes");
    assertThatThrownBy(() -> CodecKeyRing.of("k3", Map.of("k1", OLD)))
        .hasMessageContaining("current key id 'k3' is not among the configured keys [k1]");
    assertThatThrownBy(() -> CodecKeyRing.of(" ", Map.of("k1", OLD)))
        .hasMessageContaining("no current encryption key id");
    assertThatThrownBy(() -> CodecKeyRing.of("k1", Map.of())).hasMessageContaining("holds no key");
    assertThatThrownBy(() -> CodecKeyRing.of("bad id", Map.of("bad id", OLD)))
        .hasMessageContaining("key id 'bad id' is not valid");
  }

  @Test
  void theKeyRingNeverPrintsKeys() {
    CodecKeyRing ring = CodecKeyRing.of("k2", ordered("k1", OLD, "k2", NEW));
    assertThat(ring.toString())
        .isEqualTo("CodecKeyRing[current=k2, keys=[k1, k2]]")
        .doesNotContain(base64(OLD));
  }

  @Test
  void asTheSdkUsesItValuesAndFailuresRoundTrip() {
    AesGcmPayloadCodec codec = new AesGcmPayloadCodec(CodecKeyRing.of("k1", Map.of("k1", OLD)));
    CodecDataConverter converter =
        new CodecDataConverter(DefaultDataConverter.newDefaultInstance(), List.of(codec), true);

    Payload payload = converter.toPayload(Map.of("url", "http://mr-7.review.localhost")).get();
    assertThat(AesGcmPayloadCodec.isEncrypted(payload)).isTrue();
    assertThat(converter.fromPayload(payload, Map.class, Map.class))
        .isEqualTo(Map.of("url", "http://mr-7.review.localhost"));

    var failure = converter.exceptionToFailure(new IllegalStateException("namespace is stuck"));
    assertThat(failure.getMessage()).doesNotContain("namespace is stuck");
    assertThat(failure.getStackTrace()).isEmpty();
    assertThat(AesGcmPayloadCodec.isEncrypted(failure.getEncodedAttributes())).isTrue();
    assertThat(converter.failureToException(failure).getMessage()).contains("namespace is stuck");
  }

  private static byte[] key(int seed) {
    byte[] key = new byte[32];
    Arrays.fill(key, (byte) seed);
    key[0] = (byte) (seed * 31);
    return key;
  }

  private static String base64(byte[] key) {
    return java.util.Base64.getEncoder().encodeToString(key);
  }

  private static Map<String, byte[]> ordered(String id1, byte[] k1, String id2, byte[] k2) {
    Map<String, byte[]> m = new LinkedHashMap<>();
    m.put(id1, k1);
    m.put(id2, k2);
    return m;
  }
}
