package io.ephemera.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

class CodecPropertiesTest {
  static final String KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  static final String OTHER = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

  private static CodecProperties props(String keyId, Map<String, String> keys) {
    return new CodecProperties(true, keyId, keys, null, null, null);
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
            () -> new CodecProperties(true, "a", Map.of("a", KEY), "secret/codec", null, null))
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
              () -> new CodecProperties(true, null, Map.of("a", KEY), null, List.of(bad), null))
          .as(bad)
          .hasMessageContaining("ephemera.codec.cors-origins")
          .hasMessageContaining("is not an origin");
    }
  }

  @Test
  void theRequestLimitIsBounded() {
    assertThatThrownBy(
            () -> new CodecProperties(false, null, null, null, null, DataSize.ofMegabytes(100)))
        .hasMessageContaining("ephemera.codec.max-request-size");
  }

  @Test
  void neverPrintsKeys() {
    String text = props("a", Map.of("a", KEY, "b", OTHER)).toString();
    assertThat(text).contains("keys=[a, b]").doesNotContain(KEY).doesNotContain(OTHER);
  }

  @Test
  void aVaultPathStopsStartUpUntilTheVaultKeySourceExists() {
    CodecProperties vault = new CodecProperties(true, null, null, "secret/data/codec", null, null);
    assertThatThrownBy(() -> new CodecConfiguration().codecKeySource(vault))
        .isInstanceOf(EphemeraEnvironmentPostProcessor.MissingConfigurationException.class)
        .hasMessageContaining("ephemera.codec.keys-from-vault (secret/data/codec)")
        .hasMessageContaining("ephemera.codec.keys.<id>");
  }

  @Test
  void theConfiguredSourceBuildsTheKeyRing() {
    CodecKeySource source =
        new CodecConfiguration().codecKeySource(props("b", Map.of("a", KEY, "b", OTHER)));
    assertThat(source.keyRing().currentKeyId()).isEqualTo("b");
    assertThat(source.keyRing().keyIds()).containsExactly("a", "b");
    assertThat(source.description()).contains("ephemera.codec.keys");
  }
}
