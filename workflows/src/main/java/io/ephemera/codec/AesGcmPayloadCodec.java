package io.ephemera.codec;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.temporal.api.common.v1.Payload;
import io.temporal.common.converter.EncodingKeys;
import io.temporal.payload.codec.PayloadCodec;
import io.temporal.payload.codec.PayloadCodecException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * Encrypts every Temporal payload with AES-256-GCM, so workflow histories hold no readable
 * application data: a second wall behind the rule that no secret enters a payload at all.
 *
 * <p>The whole original {@link Payload} (its metadata, e.g. {@code encoding: json/plain}, and its
 * data) is serialised and encrypted, so nothing about the value shows. The result carries two
 * metadata entries in clear: {@value #METADATA_ENCODING} {@code = }{@value #ENCODING} and {@value
 * #METADATA_KEY_ID} {@code = <key id>}; its data is a fresh 12-byte random nonce followed by the
 * ciphertext and the 16-byte tag. The key id is also the GCM associated data, so relabelling a
 * payload with another key id fails authentication instead of decrypting under a wrong name.
 *
 * <p>Decoding passes through any payload that is not {@value #ENCODING}: histories written before
 * the codec was turned on stay readable. An encrypted payload whose key is not in the ring, or that
 * fails authentication, is a {@link PayloadCodecException} naming the key id, never the key.
 *
 * <p>Thread-safe: a {@link Cipher} is made per payload, the {@link SecureRandom} is shared.
 */
public final class AesGcmPayloadCodec implements PayloadCodec {
  public static final String METADATA_ENCODING = EncodingKeys.METADATA_ENCODING_KEY;
  public static final String ENCODING = "binary/encrypted";
  public static final String METADATA_KEY_ID = "encryption-key-id";

  static final int NONCE_BYTES = 12;
  static final int TAG_BITS = 128;
  private static final String TRANSFORMATION = "AES/GCM/NoPadding";
  private static final ByteString ENCODING_BYTES = ByteString.copyFromUtf8(ENCODING);

  private final CodecKeyRing keys;
  private final SecureRandom random;

  public AesGcmPayloadCodec(CodecKeyRing keys) {
    this(keys, new SecureRandom());
  }

  AesGcmPayloadCodec(CodecKeyRing keys, SecureRandom random) {
    this.keys = Objects.requireNonNull(keys, "keys");
    this.random = Objects.requireNonNull(random, "random");
    selfTest();
  }

  /**
   * One round trip now, at construction: proves the JVM has AES-GCM, and loads the crypto provider
   * and seeds the random source outside workflow code, where a first use taking over a second would
   * trip the SDK's deadlock detector.
   */
  private void selfTest() {
    Payload probe = Payload.newBuilder().setData(ByteString.copyFromUtf8("self-test")).build();
    if (!probe.equals(decrypt(encrypt(probe)))) {
      throw new IllegalStateException("AES-GCM self-test failed: decrypt(encrypt(x)) != x");
    }
  }

  public CodecKeyRing keys() {
    return keys;
  }

  @Override
  public List<Payload> encode(List<Payload> payloads) {
    List<Payload> out = new ArrayList<>(payloads.size());
    for (Payload payload : payloads) {
      out.add(encrypt(payload));
    }
    return out;
  }

  @Override
  public List<Payload> decode(List<Payload> payloads) {
    List<Payload> out = new ArrayList<>(payloads.size());
    for (Payload payload : payloads) {
      out.add(isEncrypted(payload) ? decrypt(payload) : payload);
    }
    return out;
  }

  /** Whether this payload is one the codec wrote (or claims to be). */
  public static boolean isEncrypted(Payload payload) {
    return ENCODING_BYTES.equals(payload.getMetadataMap().get(METADATA_ENCODING));
  }

  private Payload encrypt(Payload payload) {
    String keyId = keys.currentKeyId();
    byte[] nonce = new byte[NONCE_BYTES];
    random.nextBytes(nonce);
    byte[] sealed;
    try {
      Cipher cipher = cipher(Cipher.ENCRYPT_MODE, keys.currentKey(), nonce, keyId);
      sealed = cipher.doFinal(payload.toByteArray());
    } catch (GeneralSecurityException e) {
      throw new PayloadCodecException("encrypting a payload with key '" + keyId + "' failed", e);
    }
    byte[] data = new byte[NONCE_BYTES + sealed.length];
    System.arraycopy(nonce, 0, data, 0, NONCE_BYTES);
    System.arraycopy(sealed, 0, data, NONCE_BYTES, sealed.length);
    return Payload.newBuilder()
        .putMetadata(METADATA_ENCODING, ENCODING_BYTES)
        .putMetadata(METADATA_KEY_ID, ByteString.copyFromUtf8(keyId))
        .setData(ByteString.copyFrom(data))
        .build();
  }

  private Payload decrypt(Payload payload) {
    ByteString keyIdBytes = payload.getMetadataMap().get(METADATA_KEY_ID);
    if (keyIdBytes == null || keyIdBytes.isEmpty()) {
      throw new PayloadCodecException(
          "an encrypted payload has no '" + METADATA_KEY_ID + "' metadata: cannot pick a key");
    }
    String keyId = keyIdBytes.toStringUtf8();
    SecretKey key =
        keys.key(keyId)
            .orElseThrow(
                () ->
                    new PayloadCodecException(
                        "payload was encrypted with key '"
                            + CodecKeyRing.printable(keyId)
                            + "', which is not in this key ring "
                            + keys.keyIds()
                            + ": add the retired key back to decrypt it"));
    byte[] data = payload.getData().toByteArray();
    if (data.length < NONCE_BYTES + TAG_BITS / 8) {
      throw new PayloadCodecException(
          "encrypted payload (key '" + keyId + "') is too short to hold a nonce and a tag");
    }
    byte[] plain;
    try {
      byte[] nonce = new byte[NONCE_BYTES];
      System.arraycopy(data, 0, nonce, 0, NONCE_BYTES);
      Cipher cipher = cipher(Cipher.DECRYPT_MODE, key, nonce, keyId);
      plain = cipher.doFinal(data, NONCE_BYTES, data.length - NONCE_BYTES);
    } catch (AEADBadTagException e) {
      throw new PayloadCodecException(
          "encrypted payload failed authentication with key '"
              + keyId
              + "': it was altered, or encrypted with another key under the same id",
          e);
    } catch (GeneralSecurityException e) {
      throw new PayloadCodecException(
          "decrypting a payload with key '" + keyId + "' failed: " + e.getClass().getSimpleName(),
          e);
    }
    try {
      return Payload.parseFrom(plain);
    } catch (InvalidProtocolBufferException e) {
      throw new PayloadCodecException(
          "payload decrypted with key '" + keyId + "' is not a serialised Temporal payload", e);
    }
  }

  private static Cipher cipher(int mode, SecretKey key, byte[] nonce, String keyId)
      throws GeneralSecurityException {
    Cipher cipher = Cipher.getInstance(TRANSFORMATION);
    cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
    cipher.updateAAD(keyId.getBytes(StandardCharsets.UTF_8));
    return cipher;
  }
}
