package io.ephemera.worker.config;

import java.util.List;

/** Workflow implementation types one task queue's worker runs; see {@link TaskQueueActivities}. */
public record TaskQueueWorkflows(String taskQueue, List<Class<?>> implementations) {
  public TaskQueueWorkflows {
    implementations = List.copyOf(implementations);
  }

  public static TaskQueueWorkflows of(String taskQueue, Class<?>... implementations) {
    return new TaskQueueWorkflows(taskQueue, List.of(implementations));
  }
}
