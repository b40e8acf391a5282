package io.ephemera.activity.reconciler;

import java.util.List;
import java.util.Map;

/**
 * The repairs a pass should make, and what the comparison saw.
 *
 * @param errors source ({@code gitlab}, {@code temporal}) → what failed; a project whose listing
 *     failed contributes no stop
 */
public record RepairPlan(
    List<RepairAction> actions,
    int projects,
    long openMergeRequests,
    long pendingJobs,
    long skipped,
    Map<String, String> errors) {
  public RepairPlan {
    actions = actions == null ? List.of() : List.copyOf(actions);
    errors = errors == null ? Map.of() : Map.copyOf(errors);
  }
}
