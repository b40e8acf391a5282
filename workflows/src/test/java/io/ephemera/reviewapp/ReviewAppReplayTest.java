package io.ephemera.reviewapp;

import static io.ephemera.reviewapp.ReviewAppTesting.registerReviewApp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.ephemera.activity.kubernetes.KubernetesActivities;
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
 * Every history recorded from a past version of the review-app workflow must replay on today's
 * implementation: a failure here means running workflows would break on deploy. Record new
 * histories with {@link RecordReviewAppHistories}; never delete old ones.
 */
class ReviewAppReplayTest {
  private static final String FOLDER = "/histories/review-app";

  @TestFactory
  Stream<DynamicTest> everyRecordedHistoryReplays() throws Exception {
    List<Path> histories = histories();
    assertThat(histories).as("recorded histories in src/test/resources" + FOLDER).isNotEmpty();
    return histories.stream()
        .map(
            file ->
                dynamicTest(
                    file.getFileName().toString(),
                    () -> replay(file, ReviewAppWorkflowImpl.class)));
  }

  @Test
  void aNonDeterministicChangeIsCaught() throws Exception {
    Path history = histories().get(0);

    // The replayer reports the NonDeterministicException inside its message, not as a cause.
    assertThatThrownBy(() -> replay(history, ChecksTheNamespaceFirst.class))
        .hasMessageContaining(NonDeterministicException.class.getName())
        // The variant schedules an extra activity where the history holds the first upsert of
        // search attributes.
        .hasMessageContaining("EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES does not match")
        .hasMessageContaining("COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK");
  }

  private static void replay(Path file, Class<? extends ReviewAppWorkflow> implementation)
      throws Exception {
    WorkflowExecutionHistory history = WorkflowExecutionHistory.fromJson(Files.readString(file));
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
      Worker worker = env.newWorker(TaskQueues.REVIEW_APPS);
      registerReviewApp(worker, implementation);
      WorkflowReplayer.replayWorkflowExecution(history, worker);
    }
  }

  private static List<Path> histories() throws Exception {
    URL folder = ReviewAppReplayTest.class.getResource(FOLDER);
    assertThat(folder).as("folder src/test/resources" + FOLDER).isNotNull();
    try (Stream<Path> files = Files.list(Path.of(folder.toURI()))) {
      return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
    }
  }

  /** A changed implementation: it asks Kubernetes something before the recorded first step. */
  public static class ChecksTheNamespaceFirst extends ReviewAppWorkflowImpl {
    private final KubernetesActivities kubernetes =
        Workflow.newActivityStub(KubernetesActivities.class);
    private final ReviewAppRequest request;

    @WorkflowInit
    public ChecksTheNamespaceFirst(ReviewAppRequest request) {
      super(request);
      this.request = request;
    }

    @Override
    public ReviewAppResult run(ReviewAppRequest ignored) {
      kubernetes.awaitNamespaceGone(
          io.ephemera.common.Names.reviewNamespace(
              request.projectId(), request.projectPath(), request.mrIid()));
      return super.run(ignored);
    }
  }
}
