package io.ephemera.runner;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.util.List;

/**
 * The per-project concurrency guard, id {@code runner-slots/{projectId}}: at most {@code
 * maxConcurrent} runner workflows hold a slot; the rest wait in arrival order. Runner workflows
 * reach it by signal-with-start ({@code acquire}) and answer {@code release} when done; a slot is
 * granted by signalling the runner ({@link RunnerWorkflow#slotGranted}).
 */
@WorkflowInterface
public interface RunnerSlotsWorkflow {
  String TYPE = "RunnerSlots";

  @WorkflowMethod(name = TYPE)
  void run(RunnerSlotsRequest request);

  @SignalMethod(name = "acquire", description = "A runner workflow (its id) asks for a slot.")
  void acquire(String runnerWorkflowId);

  @SignalMethod(name = "release", description = "A runner workflow (its id) gives its slot back.")
  void release(String runnerWorkflowId);

  @QueryMethod(name = "holders", description = "Workflow ids holding a slot now.")
  List<String> holders();

  @QueryMethod(name = "queue", description = "Workflow ids waiting for a slot, in order.")
  List<String> queue();
}
