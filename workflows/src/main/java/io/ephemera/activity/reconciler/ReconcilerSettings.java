package io.ephemera.activity.reconciler;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code ephemera.reconciler.*} as the reconciler workflow sees it, read each pass through a local
 * activity so it is recorded in history and a changed setting applies from the next pass.
 *
 * @param enabled false ends the workflow at its next pass
 * @param interval sleep between passes
 * @param jitter up to this much is added to each sleep (deterministic, {@code Workflow.newRandom})
 * @param grace a resource younger than this is never reaped
 * @param dryRun report what would be reaped or repaired, change nothing
 * @param pageSize items per page asked of every source
 * @param passesPerRun continue-as-new after this many passes
 * @param maxReapsPerPass orphans reaped per kind and pass; the rest wait for the next pass
 * @param reapTimeout how long one deletion may take before the pass gives up on it
 * @param kinds the resource kinds this worker can list
 * @param notConfigured kinds it cannot list, with the reason (e.g. "lease" → "no lease index")
 */
public record ReconcilerSettings(
    boolean enabled,
    Duration interval,
    Duration jitter,
    Duration grace,
    boolean dryRun,
    int pageSize,
    int passesPerRun,
    int maxReapsPerPass,
    Duration reapTimeout,
    List<String> kinds,
    Map<String, String> notConfigured) {
  public ReconcilerSettings {
    kinds = kinds == null ? List.of() : List.copyOf(kinds);
    notConfigured = notConfigured == null ? Map.of() : Map.copyOf(notConfigured);
  }
}
