package io.ephemera.activity.reconciler;

import java.time.Instant;
import java.util.Map;

/**
 * The result of one reconciler pass, as {@code GET /api/v1/reconciler} shows it and as metrics
 * count it.
 *
 * @param pass number of this pass since the reconciler first started
 * @param kinds per resource kind; kinds not configured on the worker are in {@code notConfigured}
 * @param repairs per {@link RepairKind#label()}: done (or, in a dry run, that would have been done)
 * @param errors source → what failed this pass; nothing depending on a source here was deleted
 */
public record PassReport(
    long pass,
    Instant startedAt,
    Instant finishedAt,
    long durationMillis,
    boolean dryRun,
    Map<String, KindReport> kinds,
    Map<String, Long> repairs,
    Map<String, String> errors,
    Map<String, String> notConfigured) {
  public PassReport {
    kinds = kinds == null ? Map.of() : Map.copyOf(kinds);
    repairs = repairs == null ? Map.of() : Map.copyOf(repairs);
    errors = errors == null ? Map.of() : Map.copyOf(errors);
    notConfigured = notConfigured == null ? Map.of() : Map.copyOf(notConfigured);
  }
}
