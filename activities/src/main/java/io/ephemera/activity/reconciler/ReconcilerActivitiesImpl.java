package io.ephemera.activity.reconciler;

import io.temporal.activity.Activity;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ReconcilerActivities}: the listings of every configured kind, the repair planner and the
 * metrics. A kind whose source is not configured on this worker (no EC2, no lease index) is not
 * listed and is reported as not configured.
 */
public class ReconcilerActivitiesImpl implements ReconcilerActivities {
  private static final Logger log = LoggerFactory.getLogger(ReconcilerActivitiesImpl.class);

  private final ReconcilerProperties properties;
  private final Map<String, ManagedSource> sources = new LinkedHashMap<>();
  private final Map<String, String> notConfigured = new LinkedHashMap<>();
  private final OrphanScan scan;
  private final Repairs repairs;
  private final ReconcilerMetrics metrics;

  /**
   * @param sources the kinds this worker can list
   * @param notConfigured kind → why it cannot be listed here
   */
  public ReconcilerActivitiesImpl(
      ReconcilerProperties properties,
      List<ManagedSource> sources,
      Map<String, String> notConfigured,
      Owners owners,
      Repairs repairs,
      ReconcilerMetrics metrics,
      Clock clock) {
    this.properties = properties;
    for (ManagedSource s : sources) {
      this.sources.put(s.kind(), s);
    }
    this.notConfigured.putAll(notConfigured);
    this.scan = new OrphanScan(owners, clock);
    this.repairs = repairs;
    this.metrics = metrics;
  }

  @Override
  public ReconcilerSettings settings() {
    List<String> kinds = new ArrayList<>();
    for (String kind : ResourceKinds.ALL) {
      if (sources.containsKey(kind)) {
        kinds.add(kind);
      }
    }
    return new ReconcilerSettings(
        properties.enabled(),
        properties.interval(),
        properties.jitter(),
        properties.grace(),
        properties.dryRun(),
        properties.pageSize(),
        properties.passesPerRun(),
        properties.maxReapsPerPass(),
        properties.reapTimeout(),
        kinds,
        notConfigured);
  }

  @Override
  public Listing list(ListRequest request) {
    ManagedSource source = sources.get(request.kind());
    if (source == null) {
      // Asked by a worker configured differently: say so rather than answer "nothing there".
      return new Listing(
          request.kind(),
          false,
          0,
          0,
          0,
          0,
          null,
          0,
          0,
          List.of(),
          Map.of(
              ResourceKinds.source(request.kind()),
              request.kind() + " is not configured on this worker"));
    }
    Listing listing =
        scan.scan(
            source, request.grace(), request.pageSize(), request.maxCandidates(), heartbeat());
    if (!listing.complete()) {
      log.warn("Listing {}s incomplete: {}", request.kind(), listing.errors());
    }
    return listing;
  }

  @Override
  public RepairPlan planRepairs(RepairRequest request) {
    return repairs.plan(request, heartbeat());
  }

  @Override
  public String repair(RepairAction action) {
    String outcome = repairs.repair(action);
    log.info(
        "Repair {} of project {} #{}: {} ({})",
        action.kind().label(),
        action.projectId(),
        action.number(),
        outcome,
        action.reason());
    return outcome;
  }

  @Override
  public void recordPass(PassReport report) {
    metrics.record(report);
  }

  /** Heartbeats with the cursor when running as an activity; nothing when called directly. */
  private static Consumer<String> heartbeat() {
    try {
      var context = Activity.getExecutionContext();
      return context::heartbeat;
    } catch (IllegalStateException | NullPointerException e) {
      return cursor -> {};
    }
  }
}
