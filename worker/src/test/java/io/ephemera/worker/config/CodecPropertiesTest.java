package io.ephemera.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ephemera.activity.vault.VaultProperties.Engine;
import io.ephemera.activity.vault.VaultProperties.SourceSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.util.unit.DataSize;

class CodecPropertiesTest {
  static final String KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  static final String OTHER = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

  private static CodecProperties props(String keyId, Map<String, String> keys) {
    return new CodecProperties(true, keyId, keys, null, null, null, null, null);
  }

  @Test
  void aSingleKeyIsTheCurrentOneWithoutSayingSo() {
    CodecProperties p = props(null, Map.of("2026-01", KEY));
    assertThat(p.keyId()).isEqualTo("2026-01");
    assertThat(p.decodedKeys().get("2026-01")).hasSize(32);
    assertThat(p.maxRequestSize()).isEqualTo(DataSize.ofMegabytes(4));
  }

  @Test
  void severalKeysNeedTheCurrentOneNamed() {
    assertThatThrownBy(() -> props(null, Map.of("a", KEY, "b", OTHER)))
        .hasMessageContaining("ephemera.codec.key-id is not set and 2 keys are configured");
    assertThatThrownBy(() -> props("c", Map.of("a", KEY, "b", OTHER)))
        .hasMessageContaining("ephemera.codec.key-id 'c' is not among ephemera.codec.keys [a, b]");
    assertThat(props("b", Map.of("a", KEY, "b", OTHER)).keyId()).isEqualTo("b");
  }

  @Test
  void keysMustBeBase64Of32Bytes() {
    assertThatThrownBy(() -> props("a", Map.of("a", "not base64!")))
        .hasMessageContaining("ephemera.codec.keys.a is not valid base64");
    assertThatThrownBy(() -> props("a", Map.of("a", "AAECAwQFBgcICQoLDA0ODw==")))
        .hasMessageContaining("ephemera.codec.keys.a decodes to 16 bytes")
        .hasMessageContaining("exactly 32");
  }

  @Test
  void keysLiveInOnePlace() {
    assertThatThrownBy(
            () ->
                new CodecProperties(
                    true, null, Map.of("a", KEY), "secret/codec", null, null, null, null))
        .hasMessageContaining("both set");
  }

  @Test
  void corsOriginsAreOriginsOnly() {
    CodecProperties ok =
        new CodecProperties(
            true,
            null,
            Map.of("a", KEY),
            null,
            null,
            null,
            List.of("https://temporal.example.com", " http://localhost:8233 ", ""),
            null);
    assertThat(ok.corsOrigins())
        .containsExactly("https://temporal.example.com", "http://localhost:8233");
    for (String bad :
        List.of(
            "*",
            "temporal.example.com",
            "https://temporal.example.com/",
            "ftp://x",
            "https://a/b")) {
      assertThatThrownBy(
              () ->
                  new CodecProperties(
                      true, null, Map.of("a", KEY), null, null, null, List.of(bad), null))
          .as(bad)
          .hasMessageContaining("ephemera.codec.cors-origins")
          .hasMessageContaining("is not an origin");
    }
  }

  @Test
  void theRequestLimitIsBounded() {
    assertThatThrownBy(
            () ->
                new CodecProperties(
                    false, null, null, null, null, null, null, DataSize.ofMegabytes(100)))
        .hasMessageContaining("ephemera.codec.max-request-size");
  }

  @Test
  void neverPrintsKeys() {
    String text = props("a", Map.of("a", KEY, "b", OTHER)).toString();
    assertThat(text).contains("keys=[a, b]").doesNotContain(KEY).doesNotContain(OTHER);
  }

  private static CodecProperties vault(String path, Engine engine, String mount) {
    return new CodecProperties(true, null, null, path, engine, mount, null, null);
  }

  @Test
  void aVaultPathIsReadAsKv2UnderItsFirstSegmentByDefault() {
    SourceSpec source = vault(" /secret/ephemera/codec/ ", null, null).vaultSource();
    assertThat(source.path()).isEqualTo("secret/ephemera/codec");
    assertThat(source.engine()).isEqualTo(Engine.KV2);
    assertThat(source.mount()).isEqualTo("secret");
    assertThat(vault("kv/team-a/codec", Engine.KV2, "kv/team-a").vaultSource().mount())
        .isEqualTo("kv/team-a");
    SourceSpec v1 = vault("kv/ephemera/codec", Engine.KV1, null).vaultSource();
    assertThat(v1.engine()).isEqualTo(Engine.KV1);
    assertThat(v1.mount()).isNull();
    assertThat(props("a", Map.of("a", KEY)).vaultSource()).isNull();
  }

  @Test
  void theVaultSettingsBindAsSpringBindsThem() {
    CodecProperties bound =
        new Binder(
                new MapConfigurationPropertySource(
                    Map.of(
                        "ephemera.codec.enabled", "true",
                        "ephemera.codec.keys-from-vault", "kv/team-a/codec",
                        "ephemera.codec.vault-engine", "kv1")))
            .bind("ephemera.codec", CodecProperties.class)
            .get();
    assertThat(bound.vaultSource())
        .isEqualTo(new SourceSpec("codec-keys", "kv/team-a/codec", Engine.KV1, null, null));
  }

  @Test
  void aKv2ApiPathIsRefusedNamingThePathToWrite() {
    assertThatThrownBy(() -> vault("secret/data/ephemera/codec", null, null))
        .hasMessageContaining("ephemera.codec.keys-from-vault secret/data/ephemera/codec")
        .hasMessageContaining("without 'data/' (secret/ephemera/codec)");
    assertThatThrownBy(() -> vault("kv/team-a/metadata/codec", Engine.KV2, "kv/team-a"))
        .hasMessageContaining("without 'metadata/' (kv/team-a/codec)");
    // KV v1 has no data/ prefix: such a path is a plain secret there.
    assertThat(vault("kv/data/codec", Engine.KV1, null).vaultSource().path())
        .isEqualTo("kv/data/codec");
  }

  @Test
  void aBadVaultLocationStopsStartUpNamingTheSetting() {
    assertThatThrownBy(() -> vault("codec", null, null))
        .hasMessageContaining("ephemera.codec.keys-from-vault must be <mount>/<path>");
    assertThatThrownBy(() -> vault("secret/../sys/codec", null, null))
        .hasMessageContaining("'..' segment");
    assertThatThrownBy(() -> vault("secret/codec?version=1", null, null))
        .hasMessageContaining("no query");
    assertThatThrownBy(() -> vault("aws/creds/codec", Engine.DYNAMIC, null))
        .hasMessageContaining("ephemera.codec.vault-engine must be kv1 or kv2");
    assertThatThrownBy(() -> vault("kv/codec", Engine.KV1, "kv"))
        .hasMessageContaining("ephemera.codec.vault-mount only applies to");
    assertThatThrownBy(() -> vault("secret/codec", Engine.KV2, "kv/team-a"))
        .hasMessageContaining("does not lie under its KV v2 mount kv/team-a");
    assertThatThrownBy(
            () -> new CodecProperties(true, "k1", null, "secret/codec", null, null, null, null))
        .hasMessageContaining("ephemera.codec.key-id is set together with")
        .hasMessageContaining("'key-id' entry");
  }

  @Test
  void aVaultPathMakesTheVaultKeySource() {
    CodecKeySource source =
        new CodecConfiguration()
            .codecKeySource(vault("secret/ephemera/codec", null, null), new StaticProvider<>(null));
    assertThat(source).isInstanceOf(VaultCodecKeySource.class);
    assertThat(source.description()).contains("kv2").contains("secret/ephemera/codec");
    // Without ephemera.vault.* (the post-processor refuses this first) it says what is missing.
    assertThatThrownBy(source::keyRing)
        .isInstanceOf(EphemeraEnvironmentPostProcessor.MissingConfigurationException.class)
        .hasMessageContaining("needs ephemera.vault.address");
  }

  @Test
  void theConfiguredSourceBuildsTheKeyRing() {
    CodecKeySource source =
        new CodecConfiguration()
            .codecKeySource(props("b", Map.of("a", KEY, "b", OTHER)), new StaticProvider<>(null));
    assertThat(source.keyRing().currentKeyId()).isEqualTo("b");
    assertThat(source.keyRing().keyIds()).containsExactly("a", "b");
    assertThat(source.description()).contains("ephemera.codec.keys");
  }

  /** The one bean an {@link ObjectProvider} would give, or none. */
  record StaticProvider<T>(T bean) implements ObjectProvider<T> {
    @Override
    public T getObject() {
      return bean;
    }

    @Override
    public T getIfAvailable() {
      return bean;
    }
  }
}
