package io.ephemera.worker.config;

import io.ephemera.activity.vault.VaultCodecKeys;
import io.ephemera.activity.vault.VaultProperties;
import io.ephemera.activity.vault.VaultProperties.SourceSpec;
import io.ephemera.activity.vault.VaultSession;
import io.ephemera.codec.CodecKeyRing;
import io.ephemera.worker.config.EphemeraEnvironmentPostProcessor.MissingConfigurationException;
import io.temporal.failure.ApplicationFailure;
import java.util.Locale;

/**
 * The codec's keys from the Vault KV secret at {@code ephemera.codec.keys-from-vault} (shape: see
 * {@link VaultCodecKeys}), read once at start-up with Ephemera's own Vault login ({@code
 * ephemera.vault.*}).
 *
 * <p>It logs in with a session of its own, closed once the keys are read, rather than the worker's
 * {@code VaultSession} bean: the api role needs the keys too and has no such bean, and one extra
 * login at start-up costs less than making the codec wait for the worker's wiring.
 *
 * <p>Any failure stops start-up with a message naming the setting, the path and the engine (and,
 * from Vault's error table, Ephemera's Vault identity), never a key. There is no retry: a process
 * that cannot read its keys must not run, and its supervisor restarts it.
 */
final class VaultCodecKeySource implements CodecKeySource {
  private final CodecProperties codec;
  private final VaultProperties vault;

  VaultCodecKeySource(CodecProperties codec, VaultProperties vault) {
    if (codec.vaultSource() == null) {
      throw new IllegalArgumentException("ephemera.codec.keys-from-vault is not set");
    }
    this.codec = codec;
    this.vault = vault;
  }

  @Override
  public CodecKeyRing keyRing() {
    SourceSpec source = codec.vaultSource();
    if (vault == null || !vault.configured()) {
      // EphemeraEnvironmentPostProcessor refuses this first; kept for a context built without it.
      throw new MissingConfigurationException(
          "ephemera.codec.keys-from-vault ("
              + source.path()
              + ") needs ephemera.vault.address and ephemera.vault.auth.* to log in to Vault");
    }
    try (VaultSession session = login(source)) {
      return VaultCodecKeys.read(session, source);
    } catch (ApplicationFailure f) {
      // Vault's error table words an outage for an activity, which Temporal retries; start-up does
      // not retry.
      String message = f.getOriginalMessage();
      if (message != null && message.endsWith("; retrying")) {
        message = message.substring(0, message.length() - "; retrying".length());
      }
      throw failed(source, message + " [" + f.getType() + "]", f);
    } catch (IllegalArgumentException e) {
      throw failed(source, e.getMessage(), e);
    }
  }

  /** A session for this read; the login itself happens at the first call. */
  private VaultSession login(SourceSpec source) {
    try {
      return new VaultSession(vault);
    } catch (IllegalArgumentException e) {
      // No usable login configured (ephemera.vault.auth.*), or an unreadable CA file.
      throw failed(source, e.getMessage(), e);
    }
  }

  @Override
  public String description() {
    SourceSpec source = codec.vaultSource();
    return "Vault "
        + source.path()
        + " ("
        + engine(source)
        + ")"
        + (vault == null || vault.address() == null ? "" : " at " + vault.address());
  }

  private static IllegalStateException failed(SourceSpec source, String why, Exception cause) {
    return new IllegalStateException(
        "cannot read the payload codec keys from Vault (ephemera.codec.keys-from-vault="
            + source.path()
            + ": "
            + engine(source)
            + "): "
            + why,
        cause);
  }

  private static String engine(SourceSpec source) {
    return source.engine().name().toLowerCase(Locale.ROOT)
        + (source.mount() == null ? "" : " at mount " + source.mount());
  }
}
