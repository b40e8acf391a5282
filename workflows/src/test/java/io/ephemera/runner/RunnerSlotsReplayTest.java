package io.ephemera.runner;

import static io.ephemera.runner.RunnerReplayTest.histories;
import static io.ephemera.runner.RunnerReplayTest.replay;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.ephemera.activity.slots.RunnerSlotActivities;
import io.temporal.worker.NonDeterministicException;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every history recorded from a past version of the slot guard must replay on today's
 * implementation. Record new histories with {@link RecordRunnerHistories}; never delete old ones.
 */
class RunnerSlotsReplayTest {
  private static final String FOLDER = "/histories/runner-slots";

  @TestFactory
  Stream<DynamicTest> everyRecordedHistoryReplays() throws Exception {
    List<Path> histories = histories(FOLDER);
    assertThat(histories).as("recorded histories in src/test/resources" + FOLDER).isNotEmpty();
    return histories.stream()
        .map(
            file ->
                dynamicTest(
                    file.getFileName().toString(),
                    () -> replay(file, RunnerWorkflowImpl.class, RunnerSlotsWorkflowImpl.class)));
  }

  @Test
  void aNonDeterministicChangeIsCaught() throws Exception {
    Path history = histories(FOLDER).get(0);

    assertThatThrownBy(() -> replay(history, RunnerWorkflowImpl.class, ChecksItselfFirst.class))
        .hasMessageContaining(NonDeterministicException.class.getName())
        .hasMessageContaining("ConfigRunnerSettings")
        .hasMessageContaining("not expected by the execution");
  }

  /** A changed implementation: it asks whether it is running before the recorded first step. */
  public static class ChecksItselfFirst extends RunnerSlotsWorkflowImpl {
    private final RunnerSlotActivities slots = Workflow.newActivityStub(RunnerSlotActivities.class);

    @WorkflowInit
    public ChecksItselfFirst(RunnerSlotsRequest request) {
      super(request);
    }

    @Override
    public void run(RunnerSlotsRequest request) {
      slots.isRunning(Workflow.getInfo().getWorkflowId());
      super.run(request);
    }
  }
}
