package io.ephemera.worker.codec;

import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * A test-only workflow that produces what a review app's happy path does not: an activity that
 * fails, one that fails once before succeeding, and a workflow that fails, each failure quoting its
 * input.
 */
@WorkflowInterface
public interface CodecProbeWorkflow {
  String TASK_QUEUE = "ephemera-codec-probe";

  @WorkflowMethod(name = "CodecProbe")
  String run(String marker);
}
