package io.ephemera.activity.slots;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.common.TaskQueues;
import io.ephemera.common.WorkflowIds;
import io.ephemera.runner.RunnerSlotsRequest;
import io.ephemera.runner.RunnerSlotsWorkflow;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.workflow.Workflow;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RunnerSlotActivitiesImplTest {

  /** Records acquires; stays open until told otherwise, as the real guard does while busy. */
  public static class RecordingSlots implements RunnerSlotsWorkflow {
    private final List<String> acquired = new ArrayList<>();
    private boolean done;

    @Override
    public void run(RunnerSlotsRequest request) {
      Workflow.await(() -> done);
    }

    @Override
    public void acquire(String runnerWorkflowId) {
      acquired.add(runnerWorkflowId);
    }

    @Override
    public void release(String runnerWorkflowId) {
      done = true;
    }

    @Override
    public List<String> holders() {
      return List.of();
    }

    @Override
    public List<String> queue() {
      return List.copyOf(acquired);
    }
  }

  private TestWorkflowEnvironment env;
  private RunnerSlotActivitiesImpl slots;

  @BeforeEach
  void start() {
    env = TestWorkflowEnvironment.newInstance();
    env.newWorker(TaskQueues.RUNNERS).registerWorkflowImplementationTypes(RecordingSlots.class);
    env.start();
    slots = new RunnerSlotActivitiesImpl(env.getWorkflowClient());
  }

  @AfterEach
  void stop() {
    env.close();
  }

  @Test
  void acquireStartsTheGuardOnceAndSignalsItEachTime() {
    slots.acquire(42, WorkflowIds.runner(42, 1));
    slots.acquire(42, WorkflowIds.runner(42, 2));

    RunnerSlotsWorkflow guard =
        env.getWorkflowClient()
            .newWorkflowStub(RunnerSlotsWorkflow.class, WorkflowIds.runnerSlots(42));
    assertThat(guard.queue()).containsExactly("runner/42/job-1", "runner/42/job-2");
  }

  @Test
  void isRunningTellsOpenFromClosedAndUnknown() {
    slots.acquire(7, WorkflowIds.runner(7, 1));
    String guardId = WorkflowIds.runnerSlots(7);
    assertThat(slots.isRunning(guardId)).isTrue();

    env.getWorkflowClient().newWorkflowStub(RunnerSlotsWorkflow.class, guardId).release("any");
    WorkflowStub.fromTyped(
            env.getWorkflowClient().newWorkflowStub(RunnerSlotsWorkflow.class, guardId))
        .getResult(Void.class);
    assertThat(slots.isRunning(guardId)).isFalse();
    assertThat(slots.isRunning("runner-slots/999")).isFalse();
  }
}
