package io.ephemera.worker.config;

import io.ephemera.codec.CodecKeyRing;

/** The codec's keys from {@code ephemera.codec.key-id} and {@code ephemera.codec.keys.<id>}. */
final class ConfiguredCodecKeySource implements CodecKeySource {
  private final CodecProperties properties;

  ConfiguredCodecKeySource(CodecProperties properties) {
    this.properties = properties;
  }

  @Override
  public CodecKeyRing keyRing() {
    if (properties.keys().isEmpty()) {
      throw new IllegalStateException(
          "ephemera.codec.enabled is true but ephemera.codec.keys is empty: configure at least"
              + " one key (ephemera.codec.keys.<id>=<base64 of 32 bytes>)");
    }
    return CodecKeyRing.of(properties.keyId(), properties.decodedKeys());
  }

  @Override
  public String description() {
    return "configuration (ephemera.codec.keys)";
  }
}
