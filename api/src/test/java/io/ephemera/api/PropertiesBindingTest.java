package io.ephemera.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ephemera.api.environments.ApiProperties;
import io.ephemera.api.webhook.WebhookProperties;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.util.unit.DataSize;

/** The property names and defaults the README and the worker's configuration rely on. */
class PropertiesBindingTest {

  @Test
  void webhookDefaults() {
    WebhookProperties p = bindWebhook(Map.of("ephemera.gitlab.webhook-token", "s3cret"));

    assertThat(p.webhookToken()).containsExactly("s3cret");
    assertThat(p.maxPayload()).isEqualTo(DataSize.ofMegabytes(5));
    assertThat(p.allowForks()).isFalse();
    assertThat(p.forkProjects()).isEmpty();
    assertThat(p.deliveryTimeout()).isEqualTo(Duration.ofSeconds(8));
  }

  @Test
  void severalWebhookTokensBindFromACommaSeparatedValue() {
    WebhookProperties p =
        bindWebhook(
            Map.of(
                "ephemera.gitlab.webhook-token", "old,new",
                "ephemera.gitlab.max-payload", "1MB",
                "ephemera.gitlab.allow-forks", "true",
                "ephemera.gitlab.fork-projects", "12,34",
                "ephemera.gitlab.delivery-timeout", "3s"));

    assertThat(p.webhookToken()).containsExactly("old", "new");
    assertThat(p.maxPayload()).isEqualTo(DataSize.ofMegabytes(1));
    assertThat(p.allowForks()).isTrue();
    assertThat(p.forkProjects()).containsExactlyInAnyOrder(12L, 34L);
    assertThat(p.deliveryTimeout()).isEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void tokensNeverShowInToString() {
    assertThat(bindWebhook(Map.of("ephemera.gitlab.webhook-token", "s3cret")).toString())
        .doesNotContain("s3cret");
    assertThat(bindApi(Map.of("ephemera.api.tokens", "s3cret")).toString())
        .doesNotContain("s3cret");
  }

  @Test
  void apiDefaults() {
    ApiProperties p = bindApi(Map.of("ephemera.api.tokens", "a, b"));

    assertThat(p.tokens()).hasSize(2);
    assertThat(p.workerTimeout()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void aZeroPayloadLimitIsRefusedAtStartUp() {
    assertThatThrownBy(() -> bindWebhook(Map.of("ephemera.gitlab.max-payload", "0B")))
        .hasRootCauseMessage("ephemera.gitlab.max-payload must be between 1B and 256MB, was 0B");
  }

  private static WebhookProperties bindWebhook(Map<String, String> properties) {
    return new Binder(new MapConfigurationPropertySource(properties))
        .bindOrCreate("ephemera.gitlab", WebhookProperties.class);
  }

  private static ApiProperties bindApi(Map<String, String> properties) {
    return new Binder(new MapConfigurationPropertySource(properties))
        .bindOrCreate("ephemera.api", ApiProperties.class);
  }
}
