package io.ephemera.codec;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The AES-256 keys of {@link AesGcmPayloadCodec}: one current key that encrypts, and every key,
 * current and retired, that may still decrypt. Keeping retired keys here is what lets keys rotate:
 * payloads already in workflow histories stay readable after a new key becomes current.
 *
 * <p>Never prints key material: {@link #toString()} shows key ids only.
 */
public final class CodecKeyRing {
  /** AES-256: 32 bytes, exactly. */
  public static final int KEY_BYTES = 32;

  /**
   * Key ids travel in every payload's metadata and in error messages, so they are short, visible
   * ASCII, with no spaces or quotes.
   */
  private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9._:/-]{1,64}");

  private final String currentKeyId;
  private final Map<String, SecretKey> keys;

  private CodecKeyRing(String currentKeyId, Map<String, SecretKey> keys) {
    this.currentKeyId = currentKeyId;
    this.keys = keys;
  }

  /**
   * A key ring from raw key bytes.
   *
   * @param currentKeyId the id of the key new payloads are encrypted with; must be in {@code keys}
   * @param keys every key by id, current and retired; each exactly {@value #KEY_BYTES} bytes
   * @throws IllegalArgumentException naming the offending key id (never the key) when an id is
   *     malformed, a key has the wrong length, or the current key is missing
   */
  public static CodecKeyRing of(String currentKeyId, Map<String, byte[]> keys) {
    Objects.requireNonNull(keys, "keys");
    if (currentKeyId == null || currentKeyId.isBlank()) {
      throw new IllegalArgumentException(
          "no current encryption key id is set: name the key that encrypts new payloads");
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("the key ring holds no key: configure at least one");
    }
    Map<String, SecretKey> specs = new LinkedHashMap<>();
    for (Map.Entry<String, byte[]> entry : keys.entrySet()) {
      String id = entry.getKey();
      if (id == null || !KEY_ID.matcher(id).matches()) {
        throw new IllegalArgumentException(
            "key id '"
                + printable(id)
                + "' is not valid: use 1 to 64 letters, digits or . _ : / -");
      }
      byte[] material = entry.getValue();
      if (material == null || material.length != KEY_BYTES) {
        throw new IllegalArgumentException(
            "key '"
                + id
                + "' is "
                + (material == null ? 0 : material.length)
                + " bytes long; AES-256 needs exactly "
                + KEY_BYTES
                + " bytes (e.g. `openssl rand -base64 32`)");
      }
      specs.put(id, new SecretKeySpec(material.clone(), "AES"));
    }
    if (!specs.containsKey(currentKeyId)) {
      throw new IllegalArgumentException(
          "the current key id '"
              + printable(currentKeyId)
              + "' is not among the configured keys "
              + new TreeSet<>(specs.keySet()));
    }
    return new CodecKeyRing(currentKeyId, Collections.unmodifiableMap(specs));
  }

  public String currentKeyId() {
    return currentKeyId;
  }

  SecretKey currentKey() {
    return keys.get(currentKeyId);
  }

  Optional<SecretKey> key(String keyId) {
    return Optional.ofNullable(keys.get(keyId));
  }

  /** Every key id that can decrypt, sorted. */
  public Set<String> keyIds() {
    return Collections.unmodifiableSet(new TreeSet<>(keys.keySet()));
  }

  @Override
  public String toString() {
    return "CodecKeyRing[current=" + currentKeyId + ", keys=" + keyIds() + "]";
  }

  /** An id as it may be shown in a message: cut and stripped of control characters. */
  static String printable(String id) {
    if (id == null) {
      return "";
    }
    String cut = id.length() > 64 ? id.substring(0, 64) + "..." : id;
    return cut.replaceAll("[^\\x20-\\x7E]", "?");
  }
}
