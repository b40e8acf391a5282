package io.ephemera.api.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class WebhookMetricsTest {

  @Test
  void senderChosenEventNamesFoldIntoFourLabelValues() {
    assertThat(WebhookMetrics.event("merge_request", null)).isEqualTo("merge_request");
    assertThat(WebhookMetrics.event("build", "Merge Request Hook")).isEqualTo("job");
    assertThat(WebhookMetrics.event("push", null)).isEqualTo("other");
    assertThat(WebhookMetrics.event("x".repeat(500), null)).isEqualTo("other");
    assertThat(WebhookMetrics.event(null, " Job Hook ")).isEqualTo("job");
    assertThat(WebhookMetrics.event(null, "Evil\nHook")).isEqualTo("other");
    assertThat(WebhookMetrics.event(null, null)).isEqualTo("unknown");
  }

  @Test
  void deliveriesAndStartsAreCountedByLabel() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    WebhookMetrics metrics = new WebhookMetrics(registry);
    metrics.delivered("merge_request", "accepted", Duration.ofMillis(30));
    metrics.delivered("merge_request", "accepted", Duration.ofMillis(50));
    metrics.delivered("job", "unauthorized", Duration.ofMillis(1));
    metrics.workflowStarted("runner");

    assertThat(
            registry
                .get(WebhookMetrics.DELIVERIES)
                .tags("event", "merge_request", "outcome", "accepted")
                .counter()
                .count())
        .isEqualTo(2);
    assertThat(
            registry
                .get(WebhookMetrics.DELIVERIES)
                .tag("outcome", "unauthorized")
                .counter()
                .count())
        .isEqualTo(1);
    assertThat(registry.get(WebhookMetrics.LATENCY).tag("event", "merge_request").timer().count())
        .isEqualTo(2);
    assertThat(
            registry.get(WebhookMetrics.WORKFLOWS_STARTED).tag("kind", "runner").counter().count())
        .isEqualTo(1);
  }
}
