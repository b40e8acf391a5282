package io.ephemera.runner;

import static io.ephemera.runner.RunnerPhase.DRAINING;
import static io.ephemera.runner.RunnerPhase.FINISHED;
import static io.ephemera.runner.RunnerPhase.PROVISIONING;
import static io.ephemera.runner.RunnerPhase.QUEUED;
import static io.ephemera.runner.RunnerPhase.REGISTERING;
import static io.ephemera.runner.RunnerPhase.RUNNING;
import static io.ephemera.runner.RunnerPhase.WAITING;
import static io.ephemera.runner.RunnerTesting.KUBERNETES;
import static io.ephemera.runner.RunnerTesting.SLOTS_ID;
import static io.ephemera.runner.RunnerTesting.awaitPhase;
import static io.ephemera.runner.RunnerTesting.awaitTrue;
import static io.ephemera.runner.RunnerTesting.computeMock;
import static io.ephemera.runner.RunnerTesting.configMock;
import static io.ephemera.runner.RunnerTesting.event;
import static io.ephemera.runner.RunnerTesting.gitlabMock;
import static io.ephemera.runner.RunnerTesting.phases;
import static io.ephemera.runner.RunnerTesting.runnerIdFor;
import static io.ephemera.runner.RunnerTesting.start;
import static io.ephemera.runner.RunnerTesting.startEnvironment;
import static io.ephemera.runner.RunnerTesting.workflowId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;

import io.ephemera.activity.compute.ComputeActivities;
import io.ephemera.activity.compute.TerminateRequest;
import io.ephemera.activity.gitlab.GitLabRunnerActivities;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mockito.InOrder;

/**
 * Runner workflows under a per-project limit, with the real slot guard and client-side slot
 * activities. Time runs at wall-clock pace here (the tests only poll queries), so no runner's idle
 * timeout fires while others wait.
 */
@Timeout(30)
class RunnerConcurrencyTest {
  private TestWorkflowEnvironment env;
  private WorkflowClient client;
  private final GitLabRunnerActivities gitlab = gitlabMock();
  private final ComputeActivities compute = computeMock();

  private void startWorker(int maxConcurrent) {
    env = startEnvironment(gitlab, compute, configMock(maxConcurrent));
    client = env.getWorkflowClient();
  }

  @AfterEach
  void stopWorker() {
    env.close();
  }

  @Test
  void overTheLimitRunnersWaitInArrivalOrderUntilASlotIsFree() {
    startWorker(2);
    RunnerWorkflow first = start(client, 1001, KUBERNETES);
    awaitPhase(first, WAITING);
    RunnerWorkflow second = start(client, 1002, KUBERNETES);
    awaitPhase(second, WAITING);
    RunnerSlotsWorkflow slots = client.newWorkflowStub(RunnerSlotsWorkflow.class, SLOTS_ID);
    RunnerWorkflow third = start(client, 1003, KUBERNETES);
    awaitTrue("the third is queued", () -> slots.queue().equals(List.of(workflowId(1003))));
    RunnerWorkflow fourth = start(client, 1004, KUBERNETES);
    awaitTrue(
        "the fourth is queued behind it",
        () -> slots.queue().equals(List.of(workflowId(1003), workflowId(1004))));

    assertThat(slots.holders()).containsExactly(workflowId(1001), workflowId(1002));
    assertThat(third.status().phase()).isEqualTo(QUEUED);
    assertThat(fourth.status().phase()).isEqualTo(QUEUED);
    assertThat(third.status().history())
        .extracting(RunnerStatus.PhaseChange::phase)
        .containsExactly(QUEUED);
    verifyNeverRegistered(1003);
    verifyNeverRegistered(1004);

    // The second finishes first: its slot goes to the third, the first in line.
    finishJob(second, 1002);
    awaitPhase(third, WAITING);
    assertThat(fourth.status().phase()).isEqualTo(QUEUED);
    assertThat(slots.holders()).containsExactly(workflowId(1001), workflowId(1003));
    assertThat(slots.queue()).containsExactly(workflowId(1004));
    verifyNeverRegistered(1004);
    // The freed slot was handed on only once the second's compute and runner were gone.
    InOrder order = inOrder(compute, gitlab);
    order.verify(compute).awaitTerminated(terminate(1002));
    order.verify(gitlab).deleteRunner(argThat(r -> r.workflowId().equals(workflowId(1002))));
    order.verify(gitlab).createRunner(argThat(r -> r.workflowId().equals(workflowId(1003))));

    finishJob(first, 1001);
    awaitPhase(fourth, WAITING);
    finishJob(third, 1003);
    finishJob(fourth, 1004);

    awaitTrue("every slot is free", () -> slots.holders().isEmpty() && slots.queue().isEmpty());
    assertThat(phases(third.status()))
        .containsExactly(QUEUED, REGISTERING, PROVISIONING, WAITING, RUNNING, DRAINING, FINISHED);
    assertThat(phases(first.status()))
        .containsExactly(QUEUED, REGISTERING, PROVISIONING, WAITING, RUNNING, DRAINING, FINISHED);
  }

  @Test
  void aQueuedJobCancelledBeforeItsSlotNeverProvisionsAndLeavesTheQueue() {
    startWorker(1);
    RunnerWorkflow first = start(client, 1001, KUBERNETES);
    awaitPhase(first, WAITING);
    RunnerSlotsWorkflow slots = client.newWorkflowStub(RunnerSlotsWorkflow.class, SLOTS_ID);
    RunnerWorkflow second = start(client, 1002, KUBERNETES);
    awaitTrue("the second is queued", () -> slots.queue().equals(List.of(workflowId(1002))));

    second.jobFinished(event(1002, "canceled", null));

    RunnerStatus last = awaitPhase(second, FINISHED);
    assertThat(last.outcome()).isEqualTo("canceled before pickup");
    assertThat(phases(last)).containsExactly(QUEUED, FINISHED);
    assertThat(last.runnerId()).isNull();
    awaitTrue("it left the queue", () -> slots.queue().isEmpty());
    assertThat(slots.holders()).containsExactly(workflowId(1001));
    verifyNeverRegistered(1002);
    verify(compute, never()).provision(argThat(p -> p.jobId() == 1002));
    verify(compute, never()).terminate(terminate(1002));
    verify(gitlab, never()).deleteRunner(argThat(r -> r.workflowId().equals(workflowId(1002))));
    assertThat(first.status().phase()).isEqualTo(WAITING);

    finishJob(first, 1001);
    awaitTrue("the slot is free", () -> slots.holders().isEmpty());
  }

  @Test
  void cancellingAQueuedRunnerTakesItOutOfTheQueue() {
    startWorker(1);
    RunnerWorkflow first = start(client, 1001, KUBERNETES);
    awaitPhase(first, WAITING);
    RunnerSlotsWorkflow slots = client.newWorkflowStub(RunnerSlotsWorkflow.class, SLOTS_ID);
    RunnerWorkflow second = start(client, 1002, KUBERNETES);
    awaitTrue("the second is queued", () -> slots.queue().equals(List.of(workflowId(1002))));

    WorkflowStub.fromTyped(second).cancel();

    RunnerStatus last = awaitPhase(second, FINISHED);
    assertThat(last.outcome()).isEqualTo("cancelled");
    assertThat(phases(last)).containsExactly(QUEUED, FINISHED);
    awaitTrue("it left the queue", () -> slots.queue().isEmpty());
    assertThat(slots.holders()).containsExactly(workflowId(1001));
    verifyNeverRegistered(1002);
  }

  @Test
  void aRunnerWhoseSlotGuardIsGoneStillFinishesCleanly() {
    startWorker(1);
    RunnerWorkflow runner = start(client, 1001, KUBERNETES);
    awaitPhase(runner, WAITING);
    WorkflowStub.fromTyped(client.newWorkflowStub(RunnerSlotsWorkflow.class, SLOTS_ID))
        .terminate("operator terminated it");

    finishJob(runner, 1001);

    RunnerStatus last = RunnerTesting.result(runner); // completed, not failed by the release
    assertThat(last.phase()).isEqualTo(FINISHED);
    assertThat(last.lastError()).isNull();
    verify(gitlab).deleteRunner(argThat(r -> r.workflowId().equals(workflowId(1001))));
  }

  private static void finishJob(RunnerWorkflow runner, long jobId) {
    runner.jobStarted(event(jobId, "running", runnerIdFor(jobId)));
    // Both signals in one workflow task would skip RUNNING; GitLab's hooks come seconds apart.
    awaitPhase(runner, RUNNING);
    runner.jobFinished(event(jobId, "success", runnerIdFor(jobId)));
    awaitPhase(runner, FINISHED);
  }

  private void verifyNeverRegistered(long jobId) {
    verify(gitlab, never()).createRunner(argThat(r -> r.workflowId().equals(workflowId(jobId))));
  }

  private static TerminateRequest terminate(long jobId) {
    return new TerminateRequest(workflowId(jobId), RunnerType.KUBERNETES);
  }
}
