package io.ephemera.activity.reconciler;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The reconciler's metrics, counted from each pass's report. Names as Prometheus shows them: {@code
 * ephemera_reconciler_passes_total}, {@code ephemera_orphans_found_total{kind}}, {@code
 * ephemera_orphans_reaped_total{kind}}, {@code ephemera_repairs_total{kind}}, {@code
 * ephemera_reconciler_source_errors_total{source}}, {@code ephemera_managed_resources{kind}} and
 * {@code ephemera_oldest_resource_age_seconds{kind}} (0 when none is live).
 */
public final class ReconcilerMetrics {
  private final MeterRegistry registry;
  private final Counter passes;
  private final Map<String, AtomicLong> live = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> oldest = new ConcurrentHashMap<>();

  public ReconcilerMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.passes =
        Counter.builder("ephemera.reconciler.passes")
            .description("Reconciler passes finished")
            .register(registry);
    // Every kind and source shows from the start, at 0, so dashboards and alerts see the series.
    for (String kind : ResourceKinds.ALL) {
      found(kind);
      reaped(kind);
      gauges(kind);
    }
    for (String source :
        java.util.List.of(
            ResourceKinds.SOURCE_KUBERNETES,
            ResourceKinds.SOURCE_EC2,
            ResourceKinds.SOURCE_GITLAB,
            ResourceKinds.SOURCE_VAULT,
            ResourceKinds.SOURCE_TEMPORAL)) {
      sourceErrors(source);
    }
    for (RepairKind kind : RepairKind.values()) {
      repairs(kind.label());
    }
  }

  public void record(PassReport report) {
    passes.increment();
    report
        .kinds()
        .forEach(
            (kind, k) -> {
              found(kind).increment(k.found());
              reaped(kind).increment(k.reaped());
              gauges(kind);
              live.get(kind).set(k.live());
              if (k.blockedBy() == null || k.live() > 0) {
                oldest.get(kind).set(k.oldestAgeSeconds() == null ? 0 : k.oldestAgeSeconds());
              }
            });
    report.repairs().forEach((kind, n) -> repairs(kind).increment(n));
    report.errors().keySet().forEach(source -> sourceErrors(source).increment());
  }

  private Counter found(String kind) {
    return Counter.builder("ephemera.orphans.found")
        .description("Managed resources found whose owning workflow is not running")
        .tag("kind", kind)
        .register(registry);
  }

  private Counter reaped(String kind) {
    return Counter.builder("ephemera.orphans.reaped")
        .description("Orphaned managed resources deleted")
        .tag("kind", kind)
        .register(registry);
  }

  private Counter repairs(String kind) {
    return Counter.builder("ephemera.repairs")
        .description("Workflows started, signalled or stopped for a missed webhook")
        .tag("kind", kind)
        .register(registry);
  }

  private Counter sourceErrors(String source) {
    return Counter.builder("ephemera.reconciler.source.errors")
        .description("Reconciler passes in which a source answered with an error")
        .tag("source", source)
        .register(registry);
  }

  private void gauges(String kind) {
    live.computeIfAbsent(
        kind,
        k -> {
          AtomicLong v = new AtomicLong();
          Gauge.builder("ephemera.managed.resources", v, AtomicLong::get)
              .description("Managed resources seen by the last reconciler pass")
              .tag("kind", k)
              .register(registry);
          return v;
        });
    oldest.computeIfAbsent(
        kind,
        k -> {
          AtomicLong v = new AtomicLong();
          Gauge.builder("ephemera.oldest.resource.age", v, AtomicLong::get)
              .description("Age of the oldest live managed resource at the last pass")
              .baseUnit("seconds")
              .tag("kind", k)
              .register(registry);
          return v;
        });
  }
}
