package io.ephemera.worker.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class EmbeddedTemporalServerTest {

  @WorkflowInterface
  public interface Sleeper {
    @WorkflowMethod
    void sleepAnHour();
  }

  public static class SleeperImpl implements Sleeper {
    @Override
    public void sleepAnHour() {
      Workflow.sleep(Duration.ofHours(1));
    }
  }

  @Test
  void listensOnLoopbackOnlyAndLetsTimersRunInRealTime() throws Exception {
    try (EmbeddedTemporalServer server = EmbeddedTemporalServer.start(0)) {
      SocketAddress address = server.listenAddresses().get(0);
      assertThat(address).isInstanceOf(InetSocketAddress.class);
      InetSocketAddress inet = (InetSocketAddress) address;
      assertThat(inet.getAddress().isLoopbackAddress()).isTrue();

      WorkflowServiceStubs stubs =
          WorkflowServiceStubs.newServiceStubs(
              WorkflowServiceStubsOptions.newBuilder()
                  .setTarget("127.0.0.1:" + inet.getPort())
                  .build());
      WorkflowClient client = WorkflowClient.newInstance(stubs);
      WorkerFactory factory = WorkerFactory.newInstance(client);
      factory.newWorker("sleepers").registerWorkflowImplementationTypes(SleeperImpl.class);
      factory.start();
      try {
        Sleeper sleeper =
            client.newWorkflowStub(
                Sleeper.class,
                WorkflowOptions.newBuilder()
                    .setTaskQueue("sleepers")
                    .setWorkflowId("sleeper")
                    .build());
        WorkflowClient.start(sleeper::sleepAnHour);
        Thread.sleep(1500);
        // A server that skipped time would have finished the hour-long sleep by now.
        WorkflowExecutionStatus status =
            WorkflowStub.fromTyped(sleeper).describe().getWorkflowExecutionInfo().getStatus();
        assertThat(status).isEqualTo(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
      } finally {
        factory.shutdownNow();
        stubs.shutdownNow();
      }
    }
  }

  @ActivityInterface
  public interface Steps {
    /** Returns once the workflow has released it. */
    String slow();

    String quick();
  }

  public static class StepsImpl implements Steps {
    static final CountDownLatch RELEASE = new CountDownLatch(1);

    @Override
    public String slow() {
      try {
        RELEASE.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return "slow";
    }

    @Override
    public String quick() {
      return "quick";
    }
  }

  @WorkflowInterface
  public interface Canceller {
    @WorkflowMethod
    String run();

    @SignalMethod
    void stop();
  }

  /**
   * A deploy step cancelled by a stop at the moment it completes: the task that handles the stop
   * releases the activity, waits for its completion to reach the server, then cancels it and
   * schedules a clean-up step, all in one workflow task.
   */
  public static class CancellerImpl implements Canceller {
    private final Steps steps =
        Workflow.newActivityStub(
            Steps.class,
            ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofSeconds(30)).build());
    private boolean stopped;

    @Override
    public String run() {
      List<Promise<String>> slow = new ArrayList<>();
      CancellationScope scope =
          Workflow.newCancellationScope(() -> slow.add(Async.function(steps::slow)));
      scope.run();
      Workflow.await(() -> stopped);
      Workflow.sideEffect(
          Boolean.class,
          () -> {
            StepsImpl.RELEASE.countDown();
            try {
              // Long enough for the activity's completion to arrive during this task, short of
              // the SDK's one-second deadlock detector.
              Thread.sleep(500);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            return true;
          });
      scope.cancel();
      String[] cleanUp = new String[1];
      Workflow.newDetachedCancellationScope(() -> cleanUp[0] = steps.quick()).run();
      return cleanUp[0];
    }

    @Override
    public void stop() {
      stopped = true;
    }
  }

  @Test
  void aTaskCancellingAnActivityThatJustCompletedDoesNotWedgeTheWorkflow() throws Exception {
    try (EmbeddedTemporalServer server = EmbeddedTemporalServer.start(0)) {
      InetSocketAddress inet = (InetSocketAddress) server.listenAddresses().get(0);
      WorkflowServiceStubs stubs =
          WorkflowServiceStubs.newServiceStubs(
              WorkflowServiceStubsOptions.newBuilder()
                  .setTarget("127.0.0.1:" + inet.getPort())
                  .build());
      WorkflowClient client = WorkflowClient.newInstance(stubs);
      WorkerFactory factory = WorkerFactory.newInstance(client);
      Worker worker = factory.newWorker("cancellers");
      worker.registerWorkflowImplementationTypes(CancellerImpl.class);
      worker.registerActivitiesImplementations(new StepsImpl());
      factory.start();
      try {
        Canceller canceller =
            client.newWorkflowStub(
                Canceller.class,
                WorkflowOptions.newBuilder()
                    .setTaskQueue("cancellers")
                    .setWorkflowId("canceller")
                    .build());
        WorkflowClient.start(canceller::run);
        Thread.sleep(300);
        canceller.stop();

        // Wedged by temporalio/sdk-java#2391 without the guard: it would never finish.
        String result =
            WorkflowStub.fromTyped(canceller).getResult(20, TimeUnit.SECONDS, String.class);

        assertThat(result).isEqualTo("quick");
        assertThat(server.avertedWedges()).isPositive();
        List<EventType> events =
            client.fetchHistory("canceller").getEvents().stream()
                .map(HistoryEvent::getEventType)
                .toList();
        assertThat(events).contains(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
      } finally {
        factory.shutdownNow();
        stubs.shutdownNow();
      }
    }
  }

  @WorkflowInterface
  public interface Idler {
    @WorkflowMethod
    void idle();

    @QueryMethod
    String where();
  }

  public static class IdlerImpl implements Idler {
    @Override
    public void idle() {
      Workflow.await(() -> false);
    }

    @Override
    public String where() {
      return "idling";
    }
  }

  @Test
  void anIdleWorkflowAnswersQueriesAfterItsWorkerWasReplaced() throws Exception {
    try (EmbeddedTemporalServer server = EmbeddedTemporalServer.start(0)) {
      InetSocketAddress inet = (InetSocketAddress) server.listenAddresses().get(0);
      WorkflowServiceStubs stubs =
          WorkflowServiceStubs.newServiceStubs(
              WorkflowServiceStubsOptions.newBuilder()
                  .setTarget("127.0.0.1:" + inet.getPort())
                  .build());
      WorkflowClient client = WorkflowClient.newInstance(stubs);
      WorkerFactory first = WorkerFactory.newInstance(client);
      first.newWorker("idlers").registerWorkflowImplementationTypes(IdlerImpl.class);
      first.start();
      WorkerFactory second = WorkerFactory.newInstance(client);
      try {
        Idler idler =
            client.newWorkflowStub(
                Idler.class,
                WorkflowOptions.newBuilder().setTaskQueue("idlers").setWorkflowId("idler").build());
        WorkflowClient.start(idler::idle);
        // Answered by the first worker, which now holds the workflow on its sticky queue.
        assertThat(idler.where()).isEqualTo("idling");

        first.shutdown();
        first.awaitTermination(10, TimeUnit.SECONDS);
        second.newWorker("idlers").registerWorkflowImplementationTypes(IdlerImpl.class);
        second.start();

        // Without the release the query waits on the stopped worker's sticky queue for good.
        String answer = CompletableFuture.supplyAsync(idler::where).get(15, TimeUnit.SECONDS);
        assertThat(answer).isEqualTo("idling");
        assertThat(server.releasedStickyQueues()).isPositive();
      } finally {
        first.shutdownNow();
        second.shutdownNow();
        stubs.shutdownNow();
      }
    }
  }

  @ActivityInterface
  public interface Flaky {
    /** Its first attempt fails after a second (a call that timed out, say). */
    String flaky();
  }

  public static class FlakyImpl implements Flaky {
    @Override
    public String flaky() {
      if (io.temporal.activity.Activity.getExecutionContext().getInfo().getAttempt() == 1) {
        try {
          Thread.sleep(1_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        throw new IllegalStateException("first attempt fails");
      }
      return "done";
    }
  }

  @WorkflowInterface
  public interface Stopper {
    @WorkflowMethod
    String run();

    @SignalMethod
    void stop();
  }

  /**
   * A deploy step whose attempt fails just after a stop asked to cancel it, the workflow waiting
   * for the cancellation to complete (as Ephemera's activities do).
   */
  public static class StopperImpl implements Stopper {
    private final Flaky flaky =
        Workflow.newActivityStub(
            Flaky.class,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofSeconds(2))
                .setCancellationType(
                    io.temporal.activity.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
                .setRetryOptions(
                    io.temporal.common.RetryOptions.newBuilder()
                        .setInitialInterval(Duration.ofMillis(200))
                        .build())
                .build());
    private boolean stopped;

    @Override
    public String run() {
      List<Promise<String>> step = new ArrayList<>();
      CancellationScope scope =
          Workflow.newCancellationScope(() -> step.add(Async.function(flaky::flaky)));
      scope.run();
      Workflow.await(() -> stopped);
      scope.cancel();
      try {
        return step.get(0).get();
      } catch (io.temporal.failure.ActivityFailure e) {
        return "cancelled";
      }
    }

    @Override
    public void stop() {
      stopped = true;
    }
  }

  @Test
  void anActivityWhoseAttemptFailsAfterItsCancelWasRequestedEnds() throws Exception {
    try (EmbeddedTemporalServer server = EmbeddedTemporalServer.start(0)) {
      InetSocketAddress inet = (InetSocketAddress) server.listenAddresses().get(0);
      WorkflowServiceStubs stubs =
          WorkflowServiceStubs.newServiceStubs(
              WorkflowServiceStubsOptions.newBuilder()
                  .setTarget("127.0.0.1:" + inet.getPort())
                  .build());
      WorkflowClient client = WorkflowClient.newInstance(stubs);
      WorkerFactory factory = WorkerFactory.newInstance(client);
      Worker worker = factory.newWorker("stoppers");
      worker.registerWorkflowImplementationTypes(StopperImpl.class);
      worker.registerActivitiesImplementations(new FlakyImpl());
      factory.start();
      try {
        Stopper stopper =
            client.newWorkflowStub(
                Stopper.class,
                WorkflowOptions.newBuilder()
                    .setTaskQueue("stoppers")
                    .setWorkflowId("stopper")
                    .build());
        WorkflowClient.start(stopper::run);
        Thread.sleep(300); // the first attempt is running; it fails 0.7 s after the stop
        stopper.stop();

        // The test server drops the activity without an event when the attempt's failure comes
        // after the cancel request: without the guard the workflow waits for good.
        String result =
            WorkflowStub.fromTyped(stopper).getResult(20, TimeUnit.SECONDS, String.class);

        assertThat(result).isEqualTo("cancelled");
        assertThat(server.failuresReportedAsCancelled()).isPositive();
      } finally {
        factory.shutdownNow();
        stubs.shutdownNow();
      }
    }
  }
}
