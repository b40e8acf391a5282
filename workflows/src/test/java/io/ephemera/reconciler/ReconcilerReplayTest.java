package io.ephemera.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.ephemera.activity.reconciler.ReconcilerActivities;
import io.ephemera.common.TaskQueues;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.NonDeterministicException;
import io.temporal.worker.Worker;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every history recorded from a past version of the reconciler must replay on today's
 * implementation: a failure here means the running reconciler would break on deploy. Record new
 * histories with {@link RecordReconcilerHistories}; never delete old ones.
 */
class ReconcilerReplayTest {
  private static final String FOLDER = "/histories/reconciler";

  @TestFactory
  Stream<DynamicTest> everyRecordedHistoryReplays() throws Exception {
    List<Path> histories = histories();
    assertThat(histories).as("recorded histories in src/test/resources" + FOLDER).isNotEmpty();
    return histories.stream()
        .map(
            file ->
                dynamicTest(
                    file.getFileName().toString(),
                    () -> replay(file, ReconcilerWorkflowImpl.class)));
  }

  @Test
  void aNonDeterministicChangeIsCaught() throws Exception {
    Path history = histories().get(0);

    assertThatThrownBy(() -> replay(history, PlansFirst.class))
        .hasMessageContaining(NonDeterministicException.class.getName());
  }

  static void replay(Path file, Class<? extends ReconcilerWorkflow> implementation)
      throws Exception {
    WorkflowExecutionHistory history = WorkflowExecutionHistory.fromJson(Files.readString(file));
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
      Worker worker = env.newWorker(TaskQueues.RECONCILER);
      worker.registerWorkflowImplementationTypes(ReconcilerTesting.options(), implementation);
      WorkflowReplayer.replayWorkflowExecution(history, worker);
    }
  }

  static List<Path> histories() throws Exception {
    URL url = ReconcilerReplayTest.class.getResource(FOLDER);
    assertThat(url).as("folder src/test/resources" + FOLDER).isNotNull();
    try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
      return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
    }
  }

  /** A changed implementation: it plans repairs before reading its settings. */
  public static class PlansFirst extends ReconcilerWorkflowImpl {
    private final ReconcilerActivities reconciler =
        Workflow.newActivityStub(ReconcilerActivities.class);

    @WorkflowInit
    public PlansFirst(ReconcilerRequest request) {
      super(request);
    }

    @Override
    public void run(ReconcilerRequest request) {
      reconciler.planRepairs(new io.ephemera.activity.reconciler.RepairRequest(1, 1));
      super.run(request);
    }
  }
}
