package io.ephemera.worker.config;

import io.ephemera.codec.CodecKeyRing;

/**
 * Where the payload codec's keys come from. Read once, at start-up: a key rotation is a rolling
 * restart (add the new key, then make it current, then drop the old one once nothing needs it).
 *
 * <p>Two sources: {@link ConfiguredCodecKeySource} ({@code ephemera.codec.keys}, from configuration
 * or the environment) and {@link VaultCodecKeySource} (a Vault KV secret at {@code
 * ephemera.codec.keys-from-vault}, read with Ephemera's Vault login).
 */
public interface CodecKeySource {

  /** The key ring to encrypt and decrypt with; fails with a message naming the setting at fault. */
  CodecKeyRing keyRing();

  /** Where the keys came from, for the start-up log line; never key material. */
  String description();
}
