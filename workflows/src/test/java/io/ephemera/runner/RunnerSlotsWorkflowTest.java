package io.ephemera.runner;

import static io.ephemera.runner.RunnerTesting.KUBERNETES;
import static io.ephemera.runner.RunnerTesting.PROJECT_ID;
import static io.ephemera.runner.RunnerTesting.SLOTS_ID;
import static io.ephemera.runner.RunnerTesting.awaitTrue;
import static io.ephemera.runner.RunnerTesting.configMock;
import static io.ephemera.runner.RunnerTesting.workflowId;
import static io.ephemera.runner.RunnerTesting.workflowImplementationOptions;
import static io.ephemera.runner.RunnerTesting.workflowOptions;
import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.common.TaskQueues;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The slot guard on its own, with stand-in runner workflows that only count their grants, so each
 * rule of the semaphore can be shown in isolation.
 */
@Timeout(30)
class RunnerSlotsWorkflowTest {
  private TestWorkflowEnvironment env;
  private WorkflowClient client;
  private ClientRunnerSlots slotActivities;
  private RunnerSlotsWorkflow slots;

  @BeforeEach
  void startWorker() {
    env = TestWorkflowEnvironment.newInstance();
    client = env.getWorkflowClient();
    slotActivities = new ClientRunnerSlots(client);
    Worker worker = env.newWorker(TaskQueues.RUNNERS);
    worker.registerWorkflowImplementationTypes(
        workflowImplementationOptions(), StandInRunner.class, RunnerSlotsWorkflowImpl.class);
    worker.registerActivitiesImplementations(configMock(2), slotActivities);
    env.start();
    slots = client.newWorkflowStub(RunnerSlotsWorkflow.class, SLOTS_ID);
  }

  @AfterEach
  void stopWorker() {
    env.close();
  }

  @Test
  void slotsAreGrantedInArrivalOrderUpToTheLimit() {
    RunnerWorkflow first = queue(1001);
    RunnerWorkflow second = queue(1002);
    RunnerWorkflow third = queue(1003);

    awaitTrue("two hold, one waits", () -> slots.queue().equals(List.of(workflowId(1003))));
    assertThat(slots.holders()).containsExactly(workflowId(1001), workflowId(1002));
    awaitTrue("the holders were told", () -> grants(first) == 1 && grants(second) == 1);
    assertThat(grants(third)).isZero();

    slots.release(workflowId(1001));

    awaitTrue("the third was told", () -> grants(third) == 1);
    assertThat(slots.holders()).containsExactly(workflowId(1002), workflowId(1003));
    assertThat(slots.queue()).isEmpty();
  }

  @Test
  void aRepeatedAcquireChangesNothing() {
    RunnerWorkflow first = queue(1001);
    queue(1002);
    queue(1003);
    awaitTrue("one waits", () -> slots.queue().size() == 1);

    slotActivities.acquire(PROJECT_ID, workflowId(1001)); // a holder
    slotActivities.acquire(PROJECT_ID, workflowId(1003)); // a waiter

    assertThat(slots.holders()).containsExactly(workflowId(1001), workflowId(1002));
    assertThat(slots.queue()).containsExactly(workflowId(1003));
    assertThat(grants(first)).isEqualTo(1);
  }

  @Test
  void aSlotMeantForARunnerThatIsGoneGoesToTheNext() {
    queue(1001);
    queue(1002);
    slotActivities.acquire(PROJECT_ID, workflowId(404)); // no such workflow (any more)
    RunnerWorkflow next = queue(1003);
    awaitTrue("two wait", () -> slots.queue().size() == 2);

    slots.release(workflowId(1001));

    awaitTrue("the next in line was told", () -> grants(next) == 1);
    assertThat(slots.holders()).containsExactly(workflowId(1002), workflowId(1003));
    assertThat(slots.queue()).isEmpty();
  }

  @Test
  void aReleaseFromTheQueueLeavesIt() {
    queue(1001);
    queue(1002);
    RunnerWorkflow third = queue(1003);
    RunnerWorkflow fourth = queue(1004);
    awaitTrue("two wait", () -> slots.queue().size() == 2);

    slots.release(workflowId(1003));
    slots.release(workflowId(1002));

    awaitTrue("the fourth was told", () -> grants(fourth) == 1);
    assertThat(grants(third)).isZero();
    assertThat(slots.holders()).containsExactly(workflowId(1001), workflowId(1004));
    assertThat(slots.queue()).isEmpty();
  }

  @Test
  void aHolderThatClosedWithoutReleasingLosesItsSlotAtTheNextCheck() {
    RunnerWorkflow first = queue(1001);
    queue(1002);
    RunnerWorkflow third = queue(1003);
    awaitTrue("one waits", () -> slots.queue().size() == 1);

    // Terminated: no cleanup runs, so no release is ever sent.
    WorkflowStub.fromTyped(first).terminate("operator terminated it");
    env.sleep(RunnerSlotsWorkflowImpl.HOLDER_CHECK_INTERVAL.plusMinutes(1));

    awaitTrue("the third was told", () -> grants(third) == 1);
    assertThat(slots.holders()).containsExactly(workflowId(1002), workflowId(1003));
  }

  @Test
  void anIdleGuardFinishesByItselfAndTheNextAcquireStartsItAgain() {
    queue(1001);
    awaitTrue("it holds", () -> slots.holders().size() == 1);
    slots.release(workflowId(1001));
    Instant released = now();
    String firstRun = WorkflowStub.fromTyped(slots).describe().getExecution().getRunId();

    WorkflowStub.fromTyped(slots).getResult(Void.class); // time skips through the idle period

    assertThat(Duration.between(released, now()))
        .isGreaterThanOrEqualTo(RunnerSlotsWorkflowImpl.IDLE_TIMEOUT);
    RunnerWorkflow later = queue(1002);
    awaitTrue("a new guard granted it", () -> grants(later) == 1);
    RunnerSlotsWorkflow current = client.newWorkflowStub(RunnerSlotsWorkflow.class, SLOTS_ID);
    assertThat(WorkflowStub.fromTyped(current).describe().getExecution().getRunId())
        .isNotEqualTo(firstRun);
    assertThat(current.holders()).containsExactly(workflowId(1002));
    assertThat(
            client
                .newUntypedWorkflowStub(SLOTS_ID, Optional.of(firstRun), Optional.empty())
                .describe()
                .getStatus())
        .isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);
  }

  @Test
  void continueAsNewCarriesHoldersAndQueue() {
    queue(1001);
    queue(1002);
    RunnerWorkflow third = queue(1003);
    awaitTrue("one waits", () -> slots.queue().size() == 1);

    // Releases of unknown ids change nothing but grow the history; past 4 MB the test server
    // suggests continue-as-new, as a real server would.
    String bulky = "x".repeat(1_000_000);
    for (int i = 0; i < 5; i++) {
      slots.release(bulky + i);
    }
    awaitTrue(
        "the guard continued as new",
        () ->
            !firstEvent()
                .getWorkflowExecutionStartedEventAttributes()
                .getContinuedExecutionRunId()
                .isEmpty());

    assertThat(slots.holders()).containsExactly(workflowId(1001), workflowId(1002));
    assertThat(slots.queue()).containsExactly(workflowId(1003));
    slots.release(workflowId(1001));
    awaitTrue("the carried waiter was told", () -> grants(third) == 1);
  }

  /** Starts a stand-in runner and asks for a slot for it, as the real runner does. */
  private RunnerWorkflow queue(long jobId) {
    RunnerWorkflow runner = client.newWorkflowStub(RunnerWorkflow.class, workflowOptions(jobId));
    WorkflowClient.start(runner::run, RunnerTesting.request(jobId, KUBERNETES));
    slotActivities.acquire(PROJECT_ID, workflowId(jobId));
    return client.newWorkflowStub(RunnerWorkflow.class, workflowId(jobId));
  }

  private static int grants(RunnerWorkflow runner) {
    return runner.status().jobsRun();
  }

  private Instant now() {
    return Instant.ofEpochMilli(env.currentTimeMillis());
  }

  private HistoryEvent firstEvent() {
    return client.fetchHistory(SLOTS_ID).getEvents().get(0);
  }

  /** A runner workflow that only waits and counts its grants (in {@code jobsRun}). */
  public static class StandInRunner implements RunnerWorkflow {
    private RunnerRequest request;
    private int grants;
    private boolean stopped;

    @Override
    public RunnerStatus run(RunnerRequest request) {
      this.request = request;
      Workflow.await(() -> stopped);
      return status();
    }

    @Override
    public void jobStarted(JobEvent event) {}

    @Override
    public void jobFinished(JobEvent event) {}

    @Override
    public void slotGranted() {
      grants++;
    }

    @Override
    public void stop(String reason) {
      stopped = true;
    }

    @Override
    public RunnerStatus status() {
      long jobId = request == null ? 0 : request.jobId();
      RunnerPhase phase = grants > 0 ? RunnerPhase.WAITING : RunnerPhase.QUEUED;
      return new RunnerStatus(
          PROJECT_ID,
          jobId,
          null,
          phase,
          null,
          null,
          null,
          null,
          grants,
          null,
          null,
          null,
          null,
          null,
          List.of());
    }
  }
}
