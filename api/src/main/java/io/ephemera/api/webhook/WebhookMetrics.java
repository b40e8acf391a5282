package io.ephemera.api.webhook;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Locale;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The webhook's metrics (docs/metrics.md). Every label has a small, fixed set of values, whatever a
 * sender puts in a delivery: Prometheus keeps one series per label combination.
 *
 * <ul>
 *   <li>{@code ephemera_webhook_deliveries_total{event,outcome}}: event {@code merge_request},
 *       {@code job}, {@code other} or {@code unknown}; outcome {@code accepted}, {@code ignored}, a
 *       problem type slug ({@code unauthorized}, {@code invalid-field}, {@code
 *       temporal-unavailable}, ...) or {@code error}.
 *   <li>{@code ephemera_webhook_latency_seconds{event}}: time to answer, with histogram buckets.
 *   <li>{@code ephemera_workflows_started_total{kind}}: workflow starts the webhook recorded in
 *       Temporal: {@code review-app} (a signal-with-start, so a deploy of a running review app
 *       counts too) and {@code runner}.
 * </ul>
 */
@Component
class WebhookMetrics {
  static final String DELIVERIES = "ephemera.webhook.deliveries";
  static final String LATENCY = "ephemera.webhook.latency";
  static final String WORKFLOWS_STARTED = "ephemera.workflows.started";

  private final MeterRegistry registry;

  @Autowired
  WebhookMetrics(ObjectProvider<MeterRegistry> registry) {
    // Without a registry (the api module's own slice tests) the meters still count, unseen.
    this(registry.getIfAvailable(SimpleMeterRegistry::new));
  }

  WebhookMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void delivered(String event, String outcome, Duration took) {
    Counter.builder(DELIVERIES)
        .description("GitLab webhook deliveries by event and outcome")
        .tag("event", event)
        .tag("outcome", outcome)
        .register(registry)
        .increment();
    Timer.builder(LATENCY)
        .description("Time to answer a GitLab webhook delivery")
        .tag("event", event)
        .publishPercentileHistogram()
        // GitLab gives a delivery 10 s; beyond that the bucket detail is of no use.
        .maximumExpectedValue(Duration.ofSeconds(10))
        .register(registry)
        .record(took);
  }

  void workflowStarted(String kind) {
    Counter.builder(WORKFLOWS_STARTED)
        .description("Workflow starts (signal-with-start for review apps) recorded by the webhook")
        .tag("kind", kind)
        .register(registry)
        .increment();
  }

  /** The event label: object_kind when present, else the header, folded to four values. */
  static String event(String objectKind, String header) {
    if (objectKind != null) {
      return switch (objectKind) {
        case MergeRequestEvent.KIND -> "merge_request";
        case JobHookEvent.KIND -> "job";
        default -> "other";
      };
    }
    if (header == null || header.isBlank()) {
      return "unknown";
    }
    return switch (header.strip().toLowerCase(Locale.ROOT)) {
      case "merge request hook" -> "merge_request";
      case "job hook" -> "job";
      default -> "other";
    };
  }
}
