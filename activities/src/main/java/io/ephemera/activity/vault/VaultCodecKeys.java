package io.ephemera.activity.vault;

import io.ephemera.activity.vault.VaultProperties.Engine;
import io.ephemera.activity.vault.VaultProperties.SourceSpec;
import io.ephemera.activity.vault.VaultSession.VaultSecret;
import io.ephemera.codec.CodecKeyRing;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The payload codec's key ring, read from one Vault KV secret (v1 or v2) whose data is
 *
 * <pre>{@code
 * {"key-id": "2026-01", "2026-01": "<base64 of 32 bytes>", "2025-07": "<base64 of 32 bytes>"}
 * }</pre>
 *
 * {@value #CURRENT_KEY_ID} names the key that encrypts new payloads (it may be left out when the
 * secret holds exactly one key); every other entry is a key by id, current or retired, and nothing
 * else may be there: an entry that is not a key is an error rather than silently ignored, since a
 * misspelt {@code key-id} would otherwise pass for a malformed key.
 *
 * <p>Here, next to {@link VaultSession}, because it is one more reader of Vault: it goes through
 * the session's engine-correct clients and status checks, and its tests reuse the session's HTTP
 * fake.
 *
 * <p>Errors name the path and the entry, never a value; an entry whose <em>name</em> does not look
 * like a key id (a key pasted into the name, say) is not named either.
 */
public final class VaultCodecKeys {
  /** The entry naming the current key; the same word as {@code ephemera.codec.key-id}. */
  public static final String CURRENT_KEY_ID = "key-id";

  /** {@link CodecKeyRing}'s key id rule, checked first so that no message prints a bad name. */
  private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9._:/-]{1,64}");

  private VaultCodecKeys() {}

  /**
   * Reads the secret at {@code source} and builds the key ring.
   *
   * @param source a KV v1 or v2 location (a dynamic engine is refused)
   * @throws io.temporal.failure.ApplicationFailure typed by {@link VaultErrors} when Vault refuses
   *     the read (403 {@code VaultForbidden}, 404 {@code VaultRoleMissing}, unreachable or sealed
   *     {@code VaultUnavailable}), naming the path and Ephemera's Vault identity
   * @throws IllegalArgumentException when the secret does not have the shape above, naming the path
   *     and the offending entry
   */
  public static CodecKeyRing read(VaultSession vault, SourceSpec source) {
    Objects.requireNonNull(source, "source");
    if (source.engine() != Engine.KV1 && source.engine() != Engine.KV2) {
      throw new IllegalArgumentException(
          "the codec keys are a KV secret (kv1 or kv2), not " + source.engine());
    }
    VaultSecret secret = vault.read(source);
    return keyRing(source.path(), secret.data());
  }

  static CodecKeyRing keyRing(String path, Map<String, String> data) {
    Map<String, byte[]> keys = new TreeMap<>();
    for (Map.Entry<String, String> entry : data.entrySet()) {
      String id = entry.getKey();
      if (CURRENT_KEY_ID.equals(id)) {
        continue;
      }
      if (id == null || !KEY_ID.matcher(id).matches()) {
        throw new IllegalArgumentException(
            "the codec key secret at "
                + path
                + " has an entry whose name is not a key id (1 to 64 letters, digits or . _ : /"
                + " -); is a key written as a name? Entries are '"
                + CURRENT_KEY_ID
                + "': <id> and <id>: <base64 of 32 bytes>");
      }
      byte[] bytes;
      try {
        String value = entry.getValue();
        bytes = Base64.getDecoder().decode(value == null ? "" : value.strip());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "the codec key '"
                + id
                + "' at "
                + path
                + " is not valid base64 (make one with `openssl rand -base64 32`)");
      }
      if (bytes.length != CodecKeyRing.KEY_BYTES) {
        throw new IllegalArgumentException(
            "the codec key '"
                + id
                + "' at "
                + path
                + " decodes to "
                + bytes.length
                + " bytes; AES-256 needs exactly "
                + CodecKeyRing.KEY_BYTES
                + " (make one with `openssl rand -base64 32`)");
      }
      keys.put(id, bytes);
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException(
          "the codec key secret at "
              + path
              + " holds no key: write '"
              + CURRENT_KEY_ID
              + "': <id> and <id>: <base64 of 32 random bytes>");
    }
    String current = data.get(CURRENT_KEY_ID);
    current = current == null || current.isBlank() ? null : current.strip();
    if (current == null) {
      if (keys.size() != 1) {
        throw new IllegalArgumentException(
            "the codec key secret at "
                + path
                + " holds "
                + keys.size()
                + " keys "
                + keys.keySet()
                + " but no '"
                + CURRENT_KEY_ID
                + "' entry naming the one that encrypts new payloads");
      }
      current = keys.keySet().iterator().next();
    }
    if (!keys.containsKey(current)) {
      throw new IllegalArgumentException(
          "the '"
              + CURRENT_KEY_ID
              + "' entry of the codec key secret at "
              + path
              + (KEY_ID.matcher(current).matches()
                  ? " names '" + current + "', which"
                  : " names a key that")
              + " is not among its keys "
              + keys.keySet());
    }
    return CodecKeyRing.of(current, keys);
  }
}
