package io.ephemera.worker.config;

import java.util.List;

/**
 * Activity implementations one task queue's worker runs. Each part of the application (review apps,
 * runners, credentials, builds, the reconciler) contributes its own bean, so adding a part never
 * edits {@link EphemeraWorker}. An implementation may appear on several queues.
 */
public record TaskQueueActivities(String taskQueue, List<Object> implementations) {
  public TaskQueueActivities {
    implementations = List.copyOf(implementations);
  }

  public static TaskQueueActivities of(String taskQueue, Object... implementations) {
    return new TaskQueueActivities(taskQueue, List.of(implementations));
  }
}
