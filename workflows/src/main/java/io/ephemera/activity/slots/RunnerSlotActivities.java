package io.ephemera.activity.slots;

import io.temporal.activity.ActivityInterface;

/**
 * What runner workflows and the per-project slot guard need from the Temporal client itself.
 * Workflow code can signal a running workflow but cannot signal-with-start one, nor ask whether a
 * workflow is still open; these two small activities do it through a {@code WorkflowClient}. Type
 * names are {@code RunnerSlots<Method>}: never rename a method.
 */
@ActivityInterface(namePrefix = "RunnerSlots")
public interface RunnerSlotActivities {

  /**
   * Asks for a runner slot on behalf of {@code runnerWorkflowId}: signal-with-start of {@code
   * RunnerSlotsWorkflow} with id {@code WorkflowIds.runnerSlots(projectId)}, task queue {@code
   * TaskQueues.RUNNERS}, input {@code new RunnerSlotsRequest(projectId, List.of(), List.of())},
   * conflict policy USE_EXISTING, signal {@code acquire(runnerWorkflowId)}. A running guard takes
   * the signal; a closed or absent one is started. Safe to retry: a repeated acquire is a no-op.
   */
  void acquire(long projectId, String runnerWorkflowId);

  /**
   * Whether the workflow with this id has an open run now (DescribeWorkflowExecution, status
   * RUNNING). An unknown id is {@code false}; any other error is thrown, so the caller never
   * mistakes a failed lookup for a dead workflow.
   */
  boolean isRunning(String workflowId);
}
