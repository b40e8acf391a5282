package io.ephemera.runner;

import static io.ephemera.runner.RunnerTesting.EC2;
import static io.ephemera.runner.RunnerTesting.JOB_ID;
import static io.ephemera.runner.RunnerTesting.KUBERNETES;
import static io.ephemera.runner.RunnerTesting.OTHER_JOB_ID;
import static io.ephemera.runner.RunnerTesting.OTHER_RUNNER_ID;
import static io.ephemera.runner.RunnerTesting.RUNNER_ID;
import static io.ephemera.runner.RunnerTesting.SLOTS_ID;
import static io.ephemera.runner.RunnerTesting.WORKFLOW_ID;
import static io.ephemera.runner.RunnerTesting.awaitPhase;
import static io.ephemera.runner.RunnerTesting.awaitTrue;
import static io.ephemera.runner.RunnerTesting.computeMock;
import static io.ephemera.runner.RunnerTesting.configMock;
import static io.ephemera.runner.RunnerTesting.event;
import static io.ephemera.runner.RunnerTesting.gitlabMock;
import static io.ephemera.runner.RunnerTesting.holdProvisioning;
import static io.ephemera.runner.RunnerTesting.result;
import static io.ephemera.runner.RunnerTesting.runnerIdFor;
import static io.ephemera.runner.RunnerTesting.start;
import static io.ephemera.runner.RunnerTesting.startEnvironment;
import static io.ephemera.runner.RunnerTesting.workflowId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.when;

import io.ephemera.activity.compute.ComputeActivities;
import io.ephemera.activity.compute.TerminateRequest;
import io.ephemera.activity.gitlab.GitLabRunnerActivities;
import io.ephemera.activity.gitlab.JobState;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Records the histories {@link RunnerReplayTest} and {@link RunnerSlotsReplayTest} replay. Off by
 * default; run it when workflow logic changes, and keep the histories recorded before:
 *
 * <pre>
 * ./mvnw -B -pl workflows test -Dtest=RecordRunnerHistories -Dephemera.record-histories=true
 * </pre>
 *
 * Files go to {@code src/test/resources/histories/runner/} and {@code .../runner-slots/} (override
 * the parent with {@code -Dephemera.histories-dir=...}). Recording a name that already exists
 * overwrites it, so give a changed path a new file name rather than re-recording an old one.
 */
@EnabledIfSystemProperty(named = "ephemera.record-histories", matches = "true")
class RecordRunnerHistories {
  private static final Path DIR =
      Path.of(System.getProperty("ephemera.histories-dir", "src/test/resources/histories"));

  private final GitLabRunnerActivities gitlab = gitlabMock();
  private final ComputeActivities compute = computeMock();

  /** Kubernetes: WAITING → started → success → compensations → FINISHED. */
  @Test
  void kubernetesJobRan() throws IOException {
    try (TestWorkflowEnvironment env = startEnvironment(gitlab, compute, configMock(0))) {
      RunnerWorkflow runner = start(env.getWorkflowClient(), JOB_ID, KUBERNETES);
      awaitPhase(runner, RunnerPhase.WAITING);
      runner.jobStarted(event(JOB_ID, "running", RUNNER_ID));
      awaitPhase(runner, RunnerPhase.RUNNING);
      runner.jobFinished(event(JOB_ID, "success", RUNNER_ID));
      assertThat(result(runner).phase()).isEqualTo(RunnerPhase.FINISHED);
      write(env.getWorkflowClient(), WORKFLOW_ID, "runner/kubernetes-job-ran.json");
    }
  }

  /** EC2: the runner runs a sibling job while its own job goes to another runner. */
  @Test
  void ec2RanAnotherJob() throws IOException {
    try (TestWorkflowEnvironment env = startEnvironment(gitlab, compute, configMock(0))) {
      RunnerWorkflow runner = start(env.getWorkflowClient(), JOB_ID, EC2);
      awaitPhase(runner, RunnerPhase.WAITING);
      runner.jobStarted(event(OTHER_JOB_ID, "running", RUNNER_ID));
      runner.jobStarted(event(JOB_ID, "running", OTHER_RUNNER_ID));
      runner.jobFinished(event(JOB_ID, "success", OTHER_RUNNER_ID));
      runner.jobFinished(event(OTHER_JOB_ID, "failed", RUNNER_ID));
      assertThat(result(runner).ranJobId()).isEqualTo(OTHER_JOB_ID);
      write(env.getWorkflowClient(), WORKFLOW_ID, "runner/ec2-ran-another-job.json");
    }
  }

  /** No webhook: a failed poll, then polls find the job running, then finished. */
  @Test
  void webhookLostPolled() throws IOException {
    when(gitlab.runnerJobs(RUNNER_ID))
        .thenReturn(List.of())
        .thenThrow(ApplicationFailure.newNonRetryableFailure("502 Bad Gateway", "GitLabDown"))
        .thenReturn(List.of(new JobState(JOB_ID, "running", RUNNER_ID)))
        .thenReturn(List.of(new JobState(JOB_ID, "success", RUNNER_ID)));
    try (TestWorkflowEnvironment env = startEnvironment(gitlab, compute, configMock(0))) {
      RunnerWorkflow runner = start(env.getWorkflowClient(), JOB_ID, KUBERNETES);
      assertThat(result(runner).outcome()).isEqualTo("success");
      write(env.getWorkflowClient(), WORKFLOW_ID, "runner/webhook-lost-polled.json");
    }
  }

  @Test
  void cancelledBeforePickup() throws IOException {
    try (TestWorkflowEnvironment env = startEnvironment(gitlab, compute, configMock(0))) {
      RunnerWorkflow runner = start(env.getWorkflowClient(), JOB_ID, KUBERNETES);
      awaitPhase(runner, RunnerPhase.WAITING);
      runner.jobFinished(event(JOB_ID, "canceled", null));
      assertThat(result(runner).outcome()).isEqualTo("canceled before pickup");
      write(env.getWorkflowClient(), WORKFLOW_ID, "runner/cancelled-before-pickup.json");
    }
  }

  @Test
  void provisioningFailed() throws IOException {
    doThrow(ApplicationFailure.newNonRetryableFailure("no capacity", "Ec2NoCapacity"))
        .when(compute)
        .provision(any());
    try (TestWorkflowEnvironment env = startEnvironment(gitlab, compute, configMock(0))) {
      RunnerWorkflow runner = start(env.getWorkflowClient(), JOB_ID, EC2);
      assertThat(result(runner).phase()).isEqualTo(RunnerPhase.FAILED);
      write(env.getWorkflowClient(), WORKFLOW_ID, "runner/provisioning-failed.json");
    }
  }

  /** Terminate denied twice, then the instance takes a second wait to go. */
  @Test
  void stubbornTerminate() throws IOException {
    TerminateRequest terminate = new TerminateRequest(WORKFLOW_ID, RunnerType.EC2);
    ApplicationFailure denied = ApplicationFailure.newNonRetryableFailure("denied", "Ec2Denied");
    doThrow(denied).doThrow(denied).doNothing().when(compute).terminate(terminate);
    when(compute.awaitTerminated(terminate)).thenReturn(false, true);
    try (TestWorkflowEnvironment env = startEnvironment(gitlab, compute, configMock(0))) {
      RunnerWorkflow runner = start(env.getWorkflowClient(), JOB_ID, EC2);
      awaitPhase(runner, RunnerPhase.WAITING);
      runner.jobFinished(event(JOB_ID, "success", RUNNER_ID));
      assertThat(result(runner).phase()).isEqualTo(RunnerPhase.FINISHED);
      write(env.getWorkflowClient(), WORKFLOW_ID, "runner/stubborn-terminate.json");
    }
  }

  @Test
  void idle() throws IOException {
    try (TestWorkflowEnvironment env = startEnvironment(gitlab, compute, configMock(0))) {
      RunnerWorkflow runner = start(env.getWorkflowClient(), JOB_ID, KUBERNETES);
      assertThat(result(runner).outcome()).isEqualTo("idle");
      write(env.getWorkflowClient(), WORKFLOW_ID, "runner/idle.json");
    }
  }

  @Test
  void maximumLifetime() throws IOException {
    try (TestWorkflowEnvironment env = startEnvironment(gitlab, compute, configMock(0))) {
      RunnerWorkflow runner = start(env.getWorkflowClient(), JOB_ID, EC2);
      awaitPhase(runner, RunnerPhase.WAITING);
      runner.jobStarted(event(JOB_ID, "running", RUNNER_ID));
      assertThat(result(runner).outcome()).isEqualTo("maximum lifetime reached");
      write(env.getWorkflowClient(), WORKFLOW_ID, "runner/maximum-lifetime.json");
    }
  }

  @Test
  void stopDuringProvisioning() throws IOException {
    AtomicBoolean held = new AtomicBoolean(true);
    AtomicBoolean started = new AtomicBoolean();
    holdProvisioning(compute, held, started, new AtomicBoolean());
    try (TestWorkflowEnvironment env = startEnvironment(gitlab, compute, configMock(0))) {
      RunnerWorkflow runner = start(env.getWorkflowClient(), JOB_ID, EC2);
      awaitTrue("provisioning began", started::get);
      runner.stop("job deleted");
      assertThat(result(runner).computeId()).isNull();
      write(env.getWorkflowClient(), WORKFLOW_ID, "runner/stop-during-provisioning.json");
    } finally {
      held.set(false);
    }
  }

  @Test
  void workflowCancelled() throws IOException {
    try (TestWorkflowEnvironment env = startEnvironment(gitlab, compute, configMock(0))) {
      RunnerWorkflow runner = start(env.getWorkflowClient(), JOB_ID, KUBERNETES);
      awaitPhase(runner, RunnerPhase.WAITING);
      WorkflowStub.fromTyped(runner).cancel();
      assertThatThrownBy(() -> result(runner)).isInstanceOf(WorkflowFailedException.class);
      write(env.getWorkflowClient(), WORKFLOW_ID, "runner/workflow-cancelled.json");
    }
  }

  /**
   * Two slots, four runners: the third and fourth wait in order, one of them is cancelled while
   * queued in a second scenario; afterwards the guard idles out. Records runner and guard.
   */
  @Test
  void queuedRunners() throws IOException {
    try (TestWorkflowEnvironment env = startEnvironment(gitlab, compute, configMock(2))) {
      WorkflowClient client = env.getWorkflowClient();
      RunnerSlotsWorkflow slots = client.newWorkflowStub(RunnerSlotsWorkflow.class, SLOTS_ID);
      RunnerWorkflow first = start(client, 1001, KUBERNETES);
      awaitPhase(first, RunnerPhase.WAITING);
      RunnerWorkflow second = start(client, 1002, KUBERNETES);
      awaitPhase(second, RunnerPhase.WAITING);
      RunnerWorkflow third = start(client, 1003, KUBERNETES);
      awaitTrue("third queued", () -> slots.queue().size() == 1);
      RunnerWorkflow fourth = start(client, 1004, KUBERNETES);
      awaitTrue("fourth queued", () -> slots.queue().size() == 2);
      RunnerWorkflow fifth = start(client, 1005, KUBERNETES);
      awaitTrue("fifth queued", () -> slots.queue().size() == 3);

      fifth.jobFinished(event(1005, "canceled", null));
      awaitPhase(fifth, RunnerPhase.FINISHED);
      finish(second, 1002);
      awaitPhase(third, RunnerPhase.WAITING);
      finish(first, 1001);
      awaitPhase(fourth, RunnerPhase.WAITING);
      finish(third, 1003);
      finish(fourth, 1004);
      awaitTrue("all free", () -> slots.holders().isEmpty());
      WorkflowStub.fromTyped(slots).getResult(Void.class); // idles out

      write(client, workflowId(1003), "runner/queued-then-granted.json");
      write(client, workflowId(1005), "runner/cancelled-while-queued.json");
      write(client, SLOTS_ID, "runner-slots/two-slots-five-runners-idle.json");
    }
  }

  /** A holder is terminated without releasing; the periodic check frees its slot. */
  @Test
  void deadHolderFreed() throws IOException {
    try (TestWorkflowEnvironment env = startEnvironment(gitlab, compute, configMock(1))) {
      WorkflowClient client = env.getWorkflowClient();
      RunnerSlotsWorkflow slots = client.newWorkflowStub(RunnerSlotsWorkflow.class, SLOTS_ID);
      RunnerWorkflow first = start(client, 1001, KUBERNETES);
      awaitPhase(first, RunnerPhase.WAITING);
      RunnerWorkflow second = start(client, 1002, KUBERNETES);
      awaitTrue("second queued", () -> slots.queue().size() == 1);
      WorkflowStub.fromTyped(first).terminate("operator terminated it");
      env.sleep(RunnerSlotsWorkflowImpl.HOLDER_CHECK_INTERVAL.plusMinutes(1));
      awaitPhase(second, RunnerPhase.WAITING);
      finish(second, 1002);
      awaitTrue("all free", () -> slots.holders().isEmpty());
      WorkflowStub.fromTyped(slots).getResult(Void.class);
      write(client, SLOTS_ID, "runner-slots/dead-holder-freed.json");
    }
  }

  private static void finish(RunnerWorkflow runner, long jobId) {
    runner.jobStarted(event(jobId, "running", runnerIdFor(jobId)));
    runner.jobFinished(event(jobId, "success", runnerIdFor(jobId)));
    awaitPhase(runner, RunnerPhase.FINISHED);
  }

  private static void write(WorkflowClient client, String workflowId, String fileName)
      throws IOException {
    Path file = DIR.resolve(fileName);
    Files.createDirectories(file.getParent());
    Files.writeString(file, client.fetchHistory(workflowId).toJson(true) + "\n");
    System.out.println("Recorded " + file.toAbsolutePath());
  }
}
