package io.ephemera.worker.config;

import io.ephemera.activity.vault.VaultCodecKeys;
import io.ephemera.activity.vault.VaultProperties.Engine;
import io.ephemera.activity.vault.VaultProperties.SourceSpec;
import java.net.URI;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * {@code ephemera.codec.*}: encryption of every Temporal payload (AES-256-GCM) and the codec
 * endpoint that lets the Temporal UI read them. Invalid values stop start-up with a message naming
 * the property; key material never appears in a message or in {@link #toString()}.
 *
 * @param enabled encrypt payloads; {@code true} outside the {@code local} profile, {@code false} in
 *     it (set by {@link EphemeraEnvironmentPostProcessor}, which also refuses "enabled" without
 *     keys)
 * @param keyId the id of the key new payloads are encrypted with; may be left out when exactly one
 *     key is configured
 * @param keys every key by id, base64 of 32 random bytes ({@code openssl rand -base64 32}): the
 *     current one and the retired ones still needed to read older histories
 * @param keysFromVault a Vault KV path holding the keys instead of {@code keys}, written as {@code
 *     vault kv get} takes it ({@code secret/ephemera/codec}, without KV v2's {@code data/}); read
 *     at start-up with the {@code ephemera.vault.*} login (see {@link VaultCodecKeySource})
 * @param vaultEngine the KV version of the mount holding {@code keysFromVault}: {@code kv2}
 *     (default, Vault's {@code secret/} mount) or {@code kv1}
 * @param vaultMount the KV v2 mount of {@code keysFromVault} when it is deeper than one segment
 *     (default: the path's first segment)
 * @param corsOrigins origins ({@code https://temporal.example.com}) of Temporal UIs allowed to call
 *     {@code /codec/**} from a browser; none by default, so only same-origin callers and the CLI
 * @param maxRequestSize largest request body the codec endpoint reads
 */
@ConfigurationProperties("ephemera.codec")
public record CodecProperties(
    boolean enabled,
    String keyId,
    Map<String, String> keys,
    String keysFromVault,
    Engine vaultEngine,
    String vaultMount,
    List<String> corsOrigins,
    @DefaultValue("4MB") DataSize maxRequestSize) {

  public CodecProperties {
    keys = keys == null ? Map.of() : Map.copyOf(keys);
    keyId = keyId == null || keyId.isBlank() ? null : keyId.strip();
    keysFromVault = trimSlashes(keysFromVault);
    vaultEngine = vaultEngine == null ? Engine.KV2 : vaultEngine;
    vaultMount = trimSlashes(vaultMount);
    corsOrigins =
        corsOrigins == null
            ? List.of()
            : corsOrigins.stream()
                .filter(o -> o != null && !o.isBlank())
                .map(String::strip)
                .toList();
    corsOrigins.forEach(CodecProperties::checkOrigin);
    // 4 MB: Temporal refuses a payload over 2 MB by default (blob size limit), which is about
    // 2.7 MB as base64 JSON; one such payload and its metadata fit, a runaway body does not.
    maxRequestSize = maxRequestSize == null ? DataSize.ofMegabytes(4) : maxRequestSize;
    if (maxRequestSize.toBytes() < 1
        || maxRequestSize.toBytes() > DataSize.ofMegabytes(64).toBytes()) {
      throw new IllegalArgumentException(
          "ephemera.codec.max-request-size must be between 1B and 64MB, was " + maxRequestSize);
    }
    if (keysFromVault != null && !keys.isEmpty()) {
      throw new IllegalArgumentException(
          "ephemera.codec.keys and ephemera.codec.keys-from-vault are both set: keep the keys in"
              + " one place");
    }
    if (keysFromVault != null) {
      checkVaultLocation(keyId, keysFromVault, vaultEngine, vaultMount);
    }
    if (keyId == null && keys.size() == 1) {
      keyId = keys.keySet().iterator().next();
    }
    if (!keys.isEmpty()) {
      if (keyId == null) {
        throw new IllegalArgumentException(
            "ephemera.codec.key-id is not set and "
                + keys.size()
                + " keys are configured: name the one that encrypts new payloads");
      }
      if (!keys.containsKey(keyId)) {
        throw new IllegalArgumentException(
            "ephemera.codec.key-id '"
                + keyId
                + "' is not among ephemera.codec.keys "
                + new java.util.TreeSet<>(keys.keySet()));
      }
      decodedKeys(keys); // validates base64 and length now, at start-up
    }
  }

  /**
   * Where the keys are in Vault, as the Vault session reads a source; {@code null} without {@code
   * keys-from-vault}.
   */
  public SourceSpec vaultSource() {
    if (keysFromVault == null) {
      return null;
    }
    String mount = null;
    if (vaultEngine == Engine.KV2) {
      mount =
          vaultMount != null ? vaultMount : keysFromVault.substring(0, keysFromVault.indexOf('/'));
    }
    return new SourceSpec("codec-keys", keysFromVault, vaultEngine, mount, null);
  }

  /** The configured keys, decoded; each exactly 32 bytes. */
  public Map<String, byte[]> decodedKeys() {
    return decodedKeys(keys);
  }

  private static Map<String, byte[]> decodedKeys(Map<String, String> keys) {
    Map<String, byte[]> decoded = new LinkedHashMap<>();
    keys.forEach(
        (id, value) -> {
          byte[] bytes;
          try {
            bytes = Base64.getDecoder().decode(value == null ? "" : value.strip());
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                "ephemera.codec.keys."
                    + id
                    + " is not valid base64 (make one with"
                    + " `openssl rand -base64 32`)");
          }
          if (bytes.length != 32) {
            throw new IllegalArgumentException(
                "ephemera.codec.keys."
                    + id
                    + " decodes to "
                    + bytes.length
                    + " bytes; AES-256 needs exactly 32 (make one with `openssl rand -base64 32`)");
          }
          decoded.put(id, bytes);
        });
    return decoded;
  }

  private static void checkVaultLocation(String keyId, String path, Engine engine, String mount) {
    if (keyId != null) {
      throw new IllegalArgumentException(
          "ephemera.codec.key-id is set together with ephemera.codec.keys-from-vault: the current"
              + " key is named by the secret's '"
              + VaultCodecKeys.CURRENT_KEY_ID
              + "' entry; remove ephemera.codec.key-id");
    }
    if (engine == Engine.DYNAMIC) {
      throw new IllegalArgumentException(
          "ephemera.codec.vault-engine must be kv1 or kv2: the keys are a KV secret");
    }
    if (!path.contains("/")) {
      throw new IllegalArgumentException(
          "ephemera.codec.keys-from-vault must be <mount>/<path>, e.g. secret/ephemera/codec, was "
              + path);
    }
    for (String segment : path.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw new IllegalArgumentException(
            "ephemera.codec.keys-from-vault has an empty, '.' or '..' segment: " + path);
      }
    }
    if (path.contains("?") || path.contains("#")) {
      throw new IllegalArgumentException(
          "ephemera.codec.keys-from-vault must hold no query or fragment: " + path);
    }
    if (mount != null && engine != Engine.KV2) {
      throw new IllegalArgumentException(
          "ephemera.codec.vault-mount only applies to ephemera.codec.vault-engine=kv2");
    }
    if (engine == Engine.KV2) {
      String m = mount != null ? mount : path.substring(0, path.indexOf('/'));
      if (!path.startsWith(m + "/")) {
        throw new IllegalArgumentException(
            "ephemera.codec.keys-from-vault " + path + " does not lie under its KV v2 mount " + m);
      }
      String rest = path.substring(m.length() + 1);
      String first = rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : rest;
      if (first.equals("data") || first.equals("metadata")) {
        // The driver inserts data/ itself: secret/data/x would be read at secret/data/data/x.
        String meant =
            rest.contains("/") ? m + "/" + rest.substring(first.length() + 1) : m + "/<path>";
        throw new IllegalArgumentException(
            "ephemera.codec.keys-from-vault "
                + path
                + " is a KV v2 API path: write it as `vault kv get` takes it, without '"
                + first
                + "/' ("
                + meant
                + "); Ephemera reads "
                + m
                + "/data/<path> itself");
      }
    }
  }

  private static String trimSlashes(String s) {
    if (s == null || s.isBlank()) {
      return null;
    }
    String t = s.strip();
    while (t.startsWith("/")) {
      t = t.substring(1);
    }
    while (t.endsWith("/")) {
      t = t.substring(0, t.length() - 1);
    }
    return t.isEmpty() ? null : t;
  }

  private static void checkOrigin(String origin) {
    URI uri;
    try {
      uri = URI.create(origin);
    } catch (IllegalArgumentException e) {
      throw badOrigin(origin);
    }
    boolean ok =
        ("https".equals(uri.getScheme()) || "http".equals(uri.getScheme()))
            && uri.getHost() != null
            && (uri.getRawPath() == null || uri.getRawPath().isEmpty())
            && uri.getRawQuery() == null
            && uri.getRawFragment() == null
            && uri.getRawUserInfo() == null;
    if (!ok) {
      throw badOrigin(origin);
    }
  }

  private static IllegalArgumentException badOrigin(String origin) {
    return new IllegalArgumentException(
        "ephemera.codec.cors-origins: '"
            + origin
            + "' is not an origin; write scheme, host and port only, e.g."
            + " https://temporal.example.com or http://localhost:8233 (no path, no '*')");
  }

  // The record's toString would print the keys; config dumps and error messages must not.
  @Override
  public String toString() {
    return "CodecProperties[enabled="
        + enabled
        + ", keyId="
        + keyId
        + ", keys="
        + new java.util.TreeSet<>(keys.keySet())
        + ", keysFromVault="
        + keysFromVault
        + ", vaultEngine="
        + vaultEngine
        + ", vaultMount="
        + vaultMount
        + ", corsOrigins="
        + corsOrigins
        + ", maxRequestSize="
        + maxRequestSize
        + "]";
  }
}
