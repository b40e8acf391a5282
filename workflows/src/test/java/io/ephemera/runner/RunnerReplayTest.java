package io.ephemera.runner;

import static io.ephemera.runner.RunnerTesting.registerRunnerWorkflows;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.ephemera.activity.gitlab.GitLabRunnerActivities;
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
 * Every history recorded from a past version of the runner workflow must replay on today's
 * implementation: a failure here means running runners would break on deploy. Record new histories
 * with {@link RecordRunnerHistories}; never delete old ones.
 */
class RunnerReplayTest {
  private static final String FOLDER = "/histories/runner";

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

    // The replayer reports the NonDeterministicException inside its message, not as a cause.
    assertThatThrownBy(
            () -> replay(history, LooksAtTheJobFirst.class, RunnerSlotsWorkflowImpl.class))
        .hasMessageContaining(NonDeterministicException.class.getName())
        // The variant schedules an extra activity where the history holds the first upsert of
        // search attributes.
        .hasMessageContaining("EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES does not match")
        .hasMessageContaining("COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK");
  }

  static void replay(
      Path file, Class<? extends RunnerWorkflow> runner, Class<? extends RunnerSlotsWorkflow> slots)
      throws Exception {
    WorkflowExecutionHistory history = WorkflowExecutionHistory.fromJson(Files.readString(file));
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
      Worker worker = env.newWorker(TaskQueues.RUNNERS);
      registerRunnerWorkflows(worker, runner, slots);
      WorkflowReplayer.replayWorkflowExecution(history, worker);
    }
  }

  static List<Path> histories(String folder) throws Exception {
    URL url = RunnerReplayTest.class.getResource(folder);
    assertThat(url).as("folder src/test/resources" + folder).isNotNull();
    try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
      return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
    }
  }

  /** A changed implementation: it asks GitLab about the job before the recorded first step. */
  public static class LooksAtTheJobFirst extends RunnerWorkflowImpl {
    private final GitLabRunnerActivities gitlab =
        Workflow.newActivityStub(GitLabRunnerActivities.class);
    private final RunnerRequest request;

    @WorkflowInit
    public LooksAtTheJobFirst(RunnerRequest request) {
      super(request);
      this.request = request;
    }

    @Override
    public RunnerStatus run(RunnerRequest ignored) {
      gitlab.jobState(request.projectId(), request.jobId());
      return super.run(ignored);
    }
  }
}
