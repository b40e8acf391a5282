package io.ephemera.runner;

import static io.ephemera.runner.RunnerPhase.DRAINING;
import static io.ephemera.runner.RunnerPhase.FAILED;
import static io.ephemera.runner.RunnerPhase.FINISHED;
import static io.ephemera.runner.RunnerPhase.PROVISIONING;
import static io.ephemera.runner.RunnerPhase.REGISTERING;
import static io.ephemera.runner.RunnerPhase.RUNNING;
import static io.ephemera.runner.RunnerPhase.WAITING;
import static io.ephemera.runner.RunnerTesting.EC2;
import static io.ephemera.runner.RunnerTesting.JOB_ID;
import static io.ephemera.runner.RunnerTesting.JOB_TIMEOUT_SECONDS;
import static io.ephemera.runner.RunnerTesting.KUBERNETES;
import static io.ephemera.runner.RunnerTesting.MAX_LIFETIME;
import static io.ephemera.runner.RunnerTesting.OTHER_JOB_ID;
import static io.ephemera.runner.RunnerTesting.OTHER_RUNNER_ID;
import static io.ephemera.runner.RunnerTesting.PROJECT_ID;
import static io.ephemera.runner.RunnerTesting.RUNNER_ID;
import static io.ephemera.runner.RunnerTesting.TAGS;
import static io.ephemera.runner.RunnerTesting.WAIT_TIMEOUT;
import static io.ephemera.runner.RunnerTesting.WORKFLOW_ID;
import static io.ephemera.runner.RunnerTesting.awaitPhase;
import static io.ephemera.runner.RunnerTesting.awaitStatus;
import static io.ephemera.runner.RunnerTesting.awaitTrue;
import static io.ephemera.runner.RunnerTesting.computeMock;
import static io.ephemera.runner.RunnerTesting.configMock;
import static io.ephemera.runner.RunnerTesting.event;
import static io.ephemera.runner.RunnerTesting.gitlabMock;
import static io.ephemera.runner.RunnerTesting.holdProvisioning;
import static io.ephemera.runner.RunnerTesting.phases;
import static io.ephemera.runner.RunnerTesting.result;
import static io.ephemera.runner.RunnerTesting.start;
import static io.ephemera.runner.RunnerTesting.startEnvironment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.Mockito.atLeast;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.ephemera.activity.compute.ComputeActivities;
import io.ephemera.activity.compute.ProvisionRequest;
import io.ephemera.activity.compute.TerminateRequest;
import io.ephemera.activity.config.ConfigActivities;
import io.ephemera.activity.gitlab.CreateRunnerRequest;
import io.ephemera.activity.gitlab.DeleteRunnerRequest;
import io.ephemera.activity.gitlab.GitLabRunnerActivities;
import io.ephemera.activity.gitlab.JobState;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mockito.InOrder;

/**
 * The runner workflow against mocked GitLab, compute and configuration, on the time-skipping test
 * server. No per-project limit here (see {@link RunnerConcurrencyTest}). Time runs at wall-clock
 * pace while a test polls {@code status()}, and skips while it waits for the result.
 */
@Timeout(30)
class RunnerWorkflowTest {
  private static final TerminateRequest TERMINATE_POD =
      new TerminateRequest(WORKFLOW_ID, RunnerType.KUBERNETES);
  private static final TerminateRequest TERMINATE_INSTANCE =
      new TerminateRequest(WORKFLOW_ID, RunnerType.EC2);
  private static final DeleteRunnerRequest DELETE_RUNNER =
      new DeleteRunnerRequest(PROJECT_ID, WORKFLOW_ID);

  private TestWorkflowEnvironment env;
  private WorkflowClient client;
  private GitLabRunnerActivities gitlab;
  private ComputeActivities compute;
  private ConfigActivities config;
  private final AtomicBoolean provisioningHeld = new AtomicBoolean();

  @BeforeEach
  void startWorker() {
    gitlab = gitlabMock();
    compute = computeMock();
    config = configMock(0);
    env = startEnvironment(gitlab, compute, config);
    client = env.getWorkflowClient();
  }

  @AfterEach
  void stopWorker() {
    provisioningHeld.set(false);
    env.close();
  }

  @Test
  void aKubernetesRunnerRunsItsJobAndIsThenDestroyedAndDeregistered() {
    RunnerWorkflow runner = start(client, JOB_ID, KUBERNETES);

    RunnerStatus waiting = awaitPhase(runner, WAITING);
    assertThat(waiting.runnerId()).isEqualTo(RUNNER_ID);
    assertThat(waiting.computeId()).isEqualTo("ephemera-runners/runner-42-job-1001");
    assertThat(waiting.route()).isEqualTo("default");
    assertThat(waiting.type()).isEqualTo(RunnerType.KUBERNETES);
    assertThat(waiting.jobsRun()).isZero();
    verify(config).runnerSettings(PROJECT_ID);
    verify(gitlab)
        .createRunner(new CreateRunnerRequest(PROJECT_ID, WORKFLOW_ID, TAGS, JOB_TIMEOUT_SECONDS));
    verify(compute)
        .provision(
            new ProvisionRequest(
                WORKFLOW_ID,
                PROJECT_ID,
                JOB_ID,
                KUBERNETES,
                RUNNER_ID,
                "runner-token/" + WORKFLOW_ID,
                (int) WAIT_TIMEOUT.toSeconds()));
    verify(compute, never()).terminate(any());
    verify(gitlab, never()).deleteRunner(any());

    runner.jobStarted(event(JOB_ID, "running", RUNNER_ID));
    RunnerStatus running = awaitPhase(runner, RUNNING);
    assertThat(running.ranJobId()).isEqualTo(JOB_ID);
    runner.jobFinished(event(JOB_ID, "success", RUNNER_ID));

    RunnerStatus last = result(runner);
    assertThat(last.phase()).isEqualTo(FINISHED);
    assertThat(last.jobsRun()).isEqualTo(1);
    assertThat(last.ranJobId()).isEqualTo(JOB_ID);
    assertThat(last.outcome()).isEqualTo("success");
    assertThat(last.lastError()).isNull();
    assertThat(last.projectId()).isEqualTo(PROJECT_ID);
    assertThat(last.jobId()).isEqualTo(JOB_ID);
    assertThat(last.jobName()).isEqualTo("test:unit");
    assertThat(phases(last))
        .containsExactly(REGISTERING, PROVISIONING, WAITING, RUNNING, DRAINING, FINISHED);
    assertTimelineIsOrdered(last);
    assertThat(last.history().get(4).note()).contains("job 1001").contains("success");

    InOrder order = inOrder(compute, gitlab);
    order.verify(compute).terminate(TERMINATE_POD);
    order.verify(compute).awaitTerminated(TERMINATE_POD);
    order.verify(gitlab).deleteRunner(DELETE_RUNNER);
    order.verifyNoMoreInteractions();
  }

  @Test
  void anEc2RunnerRunsItsJobAndItsInstanceIsTerminatedBeforeTheRunnerIsDeleted() {
    RunnerWorkflow runner = start(client, JOB_ID, EC2);

    RunnerStatus waiting = awaitPhase(runner, WAITING);
    assertThat(waiting.computeId()).isEqualTo("i-01001");
    assertThat(waiting.type()).isEqualTo(RunnerType.EC2);
    assertThat(waiting.route()).isEqualTo("large");
    verify(compute)
        .provision(
            new ProvisionRequest(
                WORKFLOW_ID,
                PROJECT_ID,
                JOB_ID,
                EC2,
                RUNNER_ID,
                "runner-token/" + WORKFLOW_ID,
                (int) WAIT_TIMEOUT.toSeconds()));

    runner.jobStarted(event(JOB_ID, "running", RUNNER_ID));
    awaitPhase(runner, RUNNING);
    runner.jobFinished(event(JOB_ID, "failed", RUNNER_ID));

    RunnerStatus last = result(runner);
    assertThat(last.phase()).isEqualTo(FINISHED);
    assertThat(last.outcome()).isEqualTo("failed"); // the job's outcome, not the runner's
    assertThat(last.jobsRun()).isEqualTo(1);
    assertThat(phases(last))
        .containsExactly(REGISTERING, PROVISIONING, WAITING, RUNNING, DRAINING, FINISHED);
    assertTimelineIsOrdered(last);
    InOrder order = inOrder(compute, gitlab);
    order.verify(compute).terminate(TERMINATE_INSTANCE);
    order.verify(compute).awaitTerminated(TERMINATE_INSTANCE);
    order.verify(gitlab).deleteRunner(DELETE_RUNNER);
    order.verifyNoMoreInteractions();
  }

  @Test
  void aJobCancelledBeforePickupTearsItsRunnerDown() {
    RunnerWorkflow runner = start(client, JOB_ID, KUBERNETES);
    awaitPhase(runner, WAITING);

    runner.jobFinished(event(JOB_ID, "canceled", null));

    RunnerStatus last = result(runner);
    assertThat(last.phase()).isEqualTo(FINISHED);
    assertThat(last.outcome()).isEqualTo("canceled before pickup");
    assertThat(last.jobsRun()).isZero();
    assertThat(last.ranJobId()).isNull();
    assertThat(phases(last))
        .containsExactly(REGISTERING, PROVISIONING, WAITING, DRAINING, FINISHED);
    assertThat(last.history().get(3).note()).isEqualTo("job 1001 canceled before pickup");
    InOrder order = inOrder(compute, gitlab);
    order.verify(compute).terminate(TERMINATE_POD);
    order.verify(compute).awaitTerminated(TERMINATE_POD);
    order.verify(gitlab).deleteRunner(DELETE_RUNNER);
  }

  @Test
  void aRunnerThatRanADifferentJobWithTheSameTagsFinishesAfterThatJob() {
    RunnerWorkflow runner = start(client, JOB_ID, KUBERNETES);
    awaitPhase(runner, WAITING);

    // GitLab gave this runner the sibling job, and this workflow's own job to another runner.
    runner.jobStarted(event(OTHER_JOB_ID, "running", RUNNER_ID));
    RunnerStatus running = awaitPhase(runner, RUNNING);
    assertThat(running.ranJobId()).isEqualTo(OTHER_JOB_ID);
    runner.jobStarted(event(JOB_ID, "running", OTHER_RUNNER_ID));
    runner.jobFinished(event(JOB_ID, "success", OTHER_RUNNER_ID));

    // A query after signals sees them handled: the own job's end on another runner changes nothing.
    assertThat(runner.status().phase()).isEqualTo(RUNNING);
    verify(compute, never()).terminate(any());

    runner.jobFinished(event(OTHER_JOB_ID, "success", RUNNER_ID));

    RunnerStatus last = result(runner);
    assertThat(last.phase()).isEqualTo(FINISHED);
    assertThat(last.ranJobId()).isEqualTo(OTHER_JOB_ID);
    assertThat(last.jobsRun()).isEqualTo(1);
    assertThat(last.outcome()).isEqualTo("success");
    assertThat(last.history().get(3).note()).contains("job 1002");
    verify(compute).terminate(TERMINATE_POD);
    verify(gitlab).deleteRunner(DELETE_RUNNER);
  }

  @Test
  void whenItsOwnJobRanOnAnotherRunnerItStillServesAMatchingJobUntilIdle() {
    RunnerWorkflow runner = start(client, JOB_ID, KUBERNETES);
    awaitPhase(runner, WAITING);

    runner.jobStarted(event(JOB_ID, "running", OTHER_RUNNER_ID));
    runner.jobFinished(event(JOB_ID, "success", OTHER_RUNNER_ID));
    assertThat(runner.status().phase()).isEqualTo(WAITING);

    RunnerStatus last = result(runner);
    assertThat(last.outcome()).isEqualTo("idle");
    assertThat(last.jobsRun()).isZero();
    assertThat(last.ranJobId()).isNull();
    assertThat(at(last, DRAINING)).isAfterOrEqualTo(at(last, WAITING).plus(WAIT_TIMEOUT));
  }

  @Test
  void aLostWebhookIsMadeUpForByPollingTheRunnersJobs() {
    when(gitlab.runnerJobs(RUNNER_ID))
        .thenReturn(
            List.of(),
            List.of(new JobState(JOB_ID, "running", RUNNER_ID)),
            List.of(new JobState(JOB_ID, "success", RUNNER_ID)));
    RunnerWorkflow runner = start(client, JOB_ID, KUBERNETES);

    RunnerStatus last = result(runner); // no signal at all

    assertThat(last.phase()).isEqualTo(FINISHED);
    assertThat(last.outcome()).isEqualTo("success");
    assertThat(last.jobsRun()).isEqualTo(1);
    assertThat(phases(last))
        .containsExactly(REGISTERING, PROVISIONING, WAITING, RUNNING, DRAINING, FINISHED);
    // Polls back off: 30 s, then 60 s more (running), then 120 s more (finished).
    Instant waiting = at(last, WAITING);
    assertThat(Duration.between(waiting, at(last, RUNNING)))
        .isBetween(Duration.ofSeconds(90), Duration.ofSeconds(95));
    assertThat(Duration.between(waiting, at(last, DRAINING)))
        .isBetween(Duration.ofSeconds(210), Duration.ofSeconds(215));
    verify(gitlab, times(3)).runnerJobs(RUNNER_ID);
    verify(gitlab, times(1)).jobState(PROJECT_ID, JOB_ID); // not asked once the runner has it
    verify(compute).terminate(TERMINATE_POD);
    verify(gitlab).deleteRunner(DELETE_RUNNER);
  }

  @Test
  void aLostCancelWebhookIsMadeUpForByPollingTheJob() {
    when(gitlab.jobState(PROJECT_ID, JOB_ID)).thenReturn(new JobState(JOB_ID, "canceled", null));
    RunnerWorkflow runner = start(client, JOB_ID, KUBERNETES);

    RunnerStatus last = result(runner);

    assertThat(last.outcome()).isEqualTo("canceled before pickup");
    assertThat(Duration.between(at(last, WAITING), at(last, DRAINING)))
        .isBetween(Duration.ofSeconds(30), Duration.ofSeconds(35));
    verify(gitlab).deleteRunner(DELETE_RUNNER);
  }

  @Test
  void aFailedPollIsNotFatalAndIsRetriedAtTheNextPoll() {
    when(gitlab.runnerJobs(RUNNER_ID))
        .thenThrow(ApplicationFailure.newNonRetryableFailure("502 Bad Gateway", "GitLabDown"))
        .thenReturn(List.of(new JobState(JOB_ID, "success", RUNNER_ID)));
    RunnerWorkflow runner = start(client, JOB_ID, KUBERNETES);

    RunnerStatus last = result(runner);

    assertThat(last.phase()).isEqualTo(FINISHED);
    assertThat(last.outcome()).isEqualTo("success");
    assertThat(last.lastError()).isNull();
    verify(gitlab, times(2)).runnerJobs(RUNNER_ID);
  }

  @Test
  void provisioningThatFailsAfterTheRunnerWasCreatedDeletesTheRunnerAndEndsFailed() {
    doThrow(
            ApplicationFailure.newNonRetryableFailure(
                "InsufficientInstanceCapacity: no c7i.xlarge in eu-west-1a", "Ec2NoCapacity"))
        .when(compute)
        .provision(any());
    RunnerWorkflow runner = start(client, JOB_ID, EC2);

    RunnerStatus last = result(runner); // completes normally, so the REST API can show it

    assertThat(last.phase()).isEqualTo(FAILED);
    assertThat(last.outcome()).isEqualTo("failed");
    assertThat(last.lastError())
        .startsWith("provisioning failed")
        .contains("InsufficientInstanceCapacity")
        .contains("[Ec2NoCapacity]");
    assertThat(last.runnerId()).isEqualTo(RUNNER_ID);
    assertThat(last.computeId()).isNull();
    assertThat(phases(last)).containsExactly(REGISTERING, PROVISIONING, DRAINING, FAILED);
    verify(compute, times(1)).provision(any()); // non-retryable: tried once
    InOrder order = inOrder(compute, gitlab);
    order.verify(compute).terminate(TERMINATE_INSTANCE); // whatever half-started is found by tag
    order.verify(compute).awaitTerminated(TERMINATE_INSTANCE);
    order.verify(gitlab).deleteRunner(DELETE_RUNNER);
  }

  @Test
  void aRegistrationThatFailsDeletesWhateverWasRegisteredAndProvisionsNothing() {
    doThrow(
            ApplicationFailure.newNonRetryableFailure(
                "403 Forbidden: token lacks create_runner", "GitLabForbidden"))
        .when(gitlab)
        .createRunner(any());
    RunnerWorkflow runner = start(client, JOB_ID, KUBERNETES);

    RunnerStatus last = result(runner);

    assertThat(last.phase()).isEqualTo(FAILED);
    assertThat(last.lastError()).startsWith("runner registration failed").contains("403");
    assertThat(last.runnerId()).isNull();
    assertThat(phases(last)).containsExactly(REGISTERING, DRAINING, FAILED);
    verify(gitlab).deleteRunner(DELETE_RUNNER);
    verify(compute, never()).provision(any());
    verify(compute, never()).terminate(any());
  }

  @Test
  void aTerminateThatFailsTwiceIsRetriedUntilNothingIsLeft() {
    ApplicationFailure denied =
        ApplicationFailure.newNonRetryableFailure(
            "UnauthorizedOperation: ec2:TerminateInstances", "Ec2Unauthorized");
    doThrow(denied).doThrow(denied).doNothing().when(compute).terminate(TERMINATE_INSTANCE);
    RunnerWorkflow runner = start(client, JOB_ID, EC2);
    awaitPhase(runner, WAITING);
    runner.jobFinished(event(JOB_ID, "success", RUNNER_ID));

    RunnerStatus draining =
        awaitStatus(runner, "DRAINING with a failed terminate", s -> s.lastError() != null);
    assertThat(draining.phase()).isEqualTo(DRAINING);
    assertThat(draining.lastError())
        .startsWith("terminate compute failed, retrying")
        .contains("Ec2Unauthorized");

    RunnerStatus last = result(runner);
    assertThat(last.phase()).isEqualTo(FINISHED);
    assertThat(last.lastError()).isNull(); // overcome
    // The workflow's own backoff: 10 s, then 20 s.
    assertThat(Duration.between(at(last, DRAINING), last.finishedAt()))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(30));
    InOrder order = inOrder(compute, gitlab);
    order.verify(compute, times(3)).terminate(TERMINATE_INSTANCE);
    order.verify(compute).awaitTerminated(TERMINATE_INSTANCE);
    order.verify(gitlab).deleteRunner(DELETE_RUNNER);
    order.verifyNoMoreInteractions();
  }

  @Test
  void computeThatIsSlowToGoIsWaitedForBeforeTheRunnerIsDeleted() {
    when(compute.awaitTerminated(TERMINATE_POD)).thenReturn(false, true);
    RunnerWorkflow runner = start(client, JOB_ID, KUBERNETES);
    awaitPhase(runner, WAITING);
    runner.stop("merge request closed");

    RunnerStatus last = result(runner);

    assertThat(last.phase()).isEqualTo(FINISHED);
    InOrder order = inOrder(compute, gitlab);
    order.verify(compute).terminate(TERMINATE_POD);
    order.verify(compute).awaitTerminated(TERMINATE_POD);
    order.verify(compute).terminate(TERMINATE_POD);
    order.verify(compute).awaitTerminated(TERMINATE_POD);
    order.verify(gitlab).deleteRunner(DELETE_RUNNER);
    order.verifyNoMoreInteractions();
  }

  @Test
  void theRoutesMaximumLifetimeEndsEvenARunningJob() {
    RunnerWorkflow runner = start(client, JOB_ID, EC2); // the route caps it at 2 hours
    awaitPhase(runner, WAITING);
    runner.jobStarted(event(JOB_ID, "running", RUNNER_ID));
    awaitPhase(runner, RUNNING);

    RunnerStatus last = result(runner);

    assertThat(last.phase()).isEqualTo(FINISHED);
    assertThat(last.outcome()).isEqualTo("maximum lifetime reached");
    assertThat(last.jobsRun()).isZero(); // cut short, not finished
    assertThat(last.ranJobId()).isEqualTo(JOB_ID);
    assertThat(Duration.between(at(last, REGISTERING), at(last, DRAINING)))
        .isBetween(Duration.ofHours(2), Duration.ofHours(2).plusSeconds(5));
    assertThat(last.history().get(4).note()).isEqualTo("maximum lifetime of 2h reached");
    verify(compute).terminate(TERMINATE_INSTANCE);
    verify(gitlab).deleteRunner(DELETE_RUNNER);
  }

  @Test
  void aRouteWithoutALifetimeGetsTheConfiguredOne() {
    RunnerWorkflow runner = start(client, JOB_ID, KUBERNETES);
    awaitPhase(runner, WAITING);
    runner.jobStarted(event(JOB_ID, "running", RUNNER_ID));
    awaitPhase(runner, RUNNING);

    RunnerStatus last = result(runner);

    assertThat(last.outcome()).isEqualTo("maximum lifetime reached");
    assertThat(Duration.between(at(last, REGISTERING), at(last, DRAINING)))
        .isBetween(MAX_LIFETIME, MAX_LIFETIME.plusSeconds(5));
  }

  @Test
  void aRunnerThatPicksUpNoJobIsDestroyedAfterTheWaitTimeout() {
    RunnerWorkflow runner = start(client, JOB_ID, KUBERNETES);

    RunnerStatus last = result(runner);

    assertThat(last.phase()).isEqualTo(FINISHED);
    assertThat(last.outcome()).isEqualTo("idle");
    assertThat(last.history().get(3).note()).isEqualTo("idle: no job picked up within 10m");
    assertThat(Duration.between(at(last, WAITING), at(last, DRAINING)))
        .isBetween(WAIT_TIMEOUT, WAIT_TIMEOUT.plusSeconds(5));
    // Polled on the way, and once more at the deadline in case the start webhook was lost.
    verify(gitlab, atLeast(4)).runnerJobs(RUNNER_ID);
    verify(compute).terminate(TERMINATE_POD);
    verify(gitlab).deleteRunner(DELETE_RUNNER);
  }

  @Test
  void anIdleRunnerWhoseJobStartedUnnoticedIsNotCutShort() {
    // No webhook ever arrives; the last look at the idle deadline finds the job running.
    when(gitlab.runnerJobs(RUNNER_ID))
        .thenReturn(List.of(), List.of(), List.of(), List.of())
        .thenReturn(List.of(new JobState(JOB_ID, "running", RUNNER_ID)))
        .thenReturn(List.of(new JobState(JOB_ID, "success", RUNNER_ID)));
    RunnerWorkflow runner = start(client, JOB_ID, KUBERNETES);

    RunnerStatus last = result(runner);

    assertThat(last.outcome()).isEqualTo("success");
    assertThat(last.jobsRun()).isEqualTo(1);
    assertThat(at(last, RUNNING)).isAfterOrEqualTo(at(last, WAITING).plus(WAIT_TIMEOUT));
  }

  @Test
  void stopTearsTheRunnerDown() {
    RunnerWorkflow runner = start(client, JOB_ID, KUBERNETES);
    awaitPhase(runner, WAITING);

    runner.stop("stopped from the Temporal UI");

    RunnerStatus last = result(runner);
    assertThat(last.phase()).isEqualTo(FINISHED);
    assertThat(last.outcome()).isEqualTo("stopped");
    assertThat(last.history().get(3).note()).isEqualTo("stopped: stopped from the Temporal UI");
    InOrder order = inOrder(compute, gitlab);
    order.verify(compute).terminate(TERMINATE_POD);
    order.verify(compute).awaitTerminated(TERMINATE_POD);
    order.verify(gitlab).deleteRunner(DELETE_RUNNER);
  }

  @Test
  void aStopDuringProvisioningCancelsItBeforeCompensating() {
    AtomicBoolean started = new AtomicBoolean();
    AtomicBoolean cancelled = new AtomicBoolean();
    provisioningHeld.set(true);
    holdProvisioning(compute, provisioningHeld, started, cancelled);
    RunnerWorkflow runner = start(client, JOB_ID, EC2);
    awaitTrue("provisioning began", started::get);
    assertThat(runner.status().phase()).isEqualTo(PROVISIONING);

    runner.stop("job deleted");

    RunnerStatus last = result(runner);
    assertThat(cancelled).isTrue();
    assertThat(last.phase()).isEqualTo(FINISHED);
    assertThat(last.computeId()).isNull();
    assertThat(phases(last)).containsExactly(REGISTERING, PROVISIONING, DRAINING, FINISHED);
    InOrder order = inOrder(compute, gitlab);
    order.verify(compute).terminate(TERMINATE_INSTANCE);
    order.verify(compute).awaitTerminated(TERMINATE_INSTANCE);
    order.verify(gitlab).deleteRunner(DELETE_RUNNER);
  }

  @Test
  void cancellingTheWorkflowStillRunsTheCompensations() {
    RunnerWorkflow runner = start(client, JOB_ID, KUBERNETES);
    awaitPhase(runner, WAITING);

    WorkflowStub.fromTyped(runner).cancel();

    // The SDK closes a cancel-requested workflow as CANCELED even when it returns normally...
    assertThatThrownBy(() -> result(runner))
        .isInstanceOf(WorkflowFailedException.class)
        .hasCauseInstanceOf(CanceledFailure.class);
    // ...but only after the compensations, which ran in their detached scope.
    RunnerStatus last = runner.status();
    assertThat(last.phase()).isEqualTo(FINISHED);
    assertThat(last.outcome()).isEqualTo("cancelled");
    InOrder order = inOrder(compute, gitlab);
    order.verify(compute).terminate(TERMINATE_POD);
    order.verify(compute).awaitTerminated(TERMINATE_POD);
    order.verify(gitlab).deleteRunner(DELETE_RUNNER);
  }

  @Test
  void eventsAboutOtherRunnersAndJobsAreIgnored() {
    RunnerWorkflow runner = start(client, JOB_ID, KUBERNETES);
    awaitPhase(runner, WAITING);

    runner.jobStarted(event(OTHER_JOB_ID, "running", OTHER_RUNNER_ID));
    runner.jobFinished(event(OTHER_JOB_ID, "canceled", null));
    runner.jobFinished(event(JOB_ID, "pending", null)); // not an end

    RunnerStatus status = runner.status();
    assertThat(status.phase()).isEqualTo(WAITING);
    assertThat(status.ranJobId()).isNull();
    verify(compute, never()).terminate(any());
    verify(gitlab, never()).runnerJobs(anyLong());
  }

  private static Instant at(RunnerStatus status, RunnerPhase phase) {
    return status.history().stream()
        .filter(c -> c.phase() == phase)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + phase + " in " + status.history()))
        .at();
  }

  private static void assertTimelineIsOrdered(RunnerStatus status) {
    assertThat(status.createdAt()).isNotNull();
    assertThat(status.finishedAt()).isNotNull();
    Instant previous = status.createdAt();
    for (RunnerStatus.PhaseChange change : status.history()) {
      assertThat(change.at()).as(change.phase().name()).isAfterOrEqualTo(previous);
      assertThat(change.note()).as(change.phase().name()).isNotBlank();
      previous = change.at();
    }
    assertThat(status.finishedAt()).isEqualTo(previous);
  }
}
