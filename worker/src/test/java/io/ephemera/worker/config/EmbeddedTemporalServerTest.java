package io.ephemera.worker.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
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
}
