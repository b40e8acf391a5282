package io.ephemera.worker.config;

import io.ephemera.activity.vault.VaultProperties;
import io.ephemera.api.codec.CodecEndpointSettings;
import io.ephemera.codec.AesGcmPayloadCodec;
import io.ephemera.codec.CodecKeyRing;
import io.temporal.common.converter.CodecDataConverter;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Payload encryption for both roles: with {@code ephemera.codec.enabled}, every payload the
 * Temporal client writes (workflow inputs, results, signals, updates, activity inputs and results,
 * memos, summaries) and every failure's message and stack trace are encrypted with AES-256-GCM.
 *
 * <p>How it reaches Temporal: temporal-spring-boot-starter 1.38 gives its {@code WorkflowClient}
 * (and so the worker built on it, see {@link EphemeraWorker}) the {@link DataConverter} bean of the
 * context: the only one, or the one named {@value #DATA_CONVERTER} ({@code
 * AutoConfigurationUtils.chooseDataConverter}). The bean here carries that name so that a second
 * converter added later cannot silently take its place. The api and the worker therefore write and
 * read with the same converter.
 *
 * <p>The keys come from configuration or from Vault ({@link CodecKeySource}), read once while the
 * context starts: a process that cannot get them does not start.
 */
@Configuration(proxyBeanMethods = false)
class CodecConfiguration {
  private static final Logger log = LoggerFactory.getLogger(CodecConfiguration.class);

  /** The bean name the Temporal starter prefers among several converters. */
  static final String DATA_CONVERTER = "mainDataConverter";

  static final String ENABLED = "ephemera.codec.enabled";

  static final String KEYS_FROM_VAULT = "ephemera.codec.keys-from-vault";

  @Bean
  @ConditionalOnProperty(name = ENABLED, havingValue = "true")
  CodecKeySource codecKeySource(CodecProperties properties, ObjectProvider<VaultProperties> vault) {
    return properties.keysFromVault() != null
        ? new VaultCodecKeySource(properties, vault.getIfAvailable())
        : new ConfiguredCodecKeySource(properties);
  }

  /**
   * Binds {@code ephemera.vault.*} in every role once the keys come from Vault: the worker binds it
   * anyway ({@link VaultConfiguration}), an api-only process only for this. Binding it only then
   * keeps an api-only process that never talks to Vault free of the Vault settings' validation.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnProperty(name = KEYS_FROM_VAULT)
  @EnableConfigurationProperties(VaultProperties.class)
  static class VaultKeysConfiguration {}

  @Bean
  @ConditionalOnProperty(name = ENABLED, havingValue = "true")
  AesGcmPayloadCodec payloadCodec(CodecKeySource source) {
    CodecKeyRing keys = source.keyRing();
    log.info(
        "Payload codec on: AES-256-GCM, encrypting with key '{}', decrypting with {}; keys from {}",
        keys.currentKeyId(),
        keys.keyIds(),
        source.description());
    return new AesGcmPayloadCodec(keys);
  }

  /**
   * The default converter (JSON, protobuf, bytes, null) with the codec after it; {@code
   * encodeFailureAttributes} moves failure messages and stack traces into an encrypted payload,
   * since they often quote the values they failed on.
   */
  @Bean(DATA_CONVERTER)
  @ConditionalOnProperty(name = ENABLED, havingValue = "true")
  DataConverter mainDataConverter(AesGcmPayloadCodec codec) {
    return new CodecDataConverter(DefaultDataConverter.newDefaultInstance(), List.of(codec), true);
  }

  /** What {@code /codec/**} serves (the api role reads it; a worker-only process ignores it). */
  @Bean
  CodecEndpointSettings codecEndpointSettings(
      CodecProperties properties, ObjectProvider<AesGcmPayloadCodec> codec) {
    AesGcmPayloadCodec c = codec.getIfAvailable();
    long limit = properties.maxRequestSize().toBytes();
    return c == null
        ? CodecEndpointSettings.disabled(properties.corsOrigins(), limit)
        : CodecEndpointSettings.enabled(c, properties.corsOrigins(), limit);
  }
}
