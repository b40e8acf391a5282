package io.ephemera.api.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.ephemera.reviewapp.ReviewAppWorkflow;
import io.grpc.Status;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.client.BatchRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowServiceException;
import org.junit.jupiter.api.Test;

/**
 * Found by the bad-input suite: a reopen racing the close that ends the review app. The server
 * finds the workflow running, it closes, and signal-with-start answers NOT_FOUND ("Completed
 * workflow"); that was a 500 to GitLab. Once closed, a second try starts a new run.
 */
class WebhookRouterRaceTest {
  private static final MergeRequestEvent OPEN =
      new MergeRequestEvent(
          4242, "group/project", 7, "open", "t", 4242, 4242, "a".repeat(40), null, "main");

  @Test
  void aDeployRacingTheCloseOfItsReviewAppStartsANewRun() {
    WorkflowClient client = client();
    when(client.signalWithStart(any()))
        .thenThrow(notFound())
        .thenReturn(WorkflowExecution.newBuilder().setWorkflowId("review-app/4242/mr-7").build());

    WebhookResponse response = router(client).route(OPEN, "key-1");

    assertThat(response.outcome()).contains("deploy");
    verify(client, times(2)).signalWithStart(any());
  }

  @Test
  void aSecondNotFoundIsNotRetriedForever() {
    WorkflowClient client = client();
    when(client.signalWithStart(any())).thenThrow(notFound());

    assertThatThrownBy(() -> router(client).route(OPEN, "key-1"))
        .isInstanceOf(WorkflowServiceException.class);
    verify(client, times(2)).signalWithStart(any());
  }

  private static WorkflowClient client() {
    WorkflowClient client = mock(WorkflowClient.class);
    when(client.newWorkflowStub(eq(ReviewAppWorkflow.class), any(WorkflowOptions.class)))
        .thenReturn(mock(ReviewAppWorkflow.class));
    when(client.newSignalWithStartRequest()).thenAnswer(i -> mock(BatchRequest.class));
    return client;
  }

  private static WebhookRouter router(WorkflowClient client) {
    return new WebhookRouter(client, TemporalUnavailableTest.PROPERTIES);
  }

  private static WorkflowServiceException notFound() {
    return new WorkflowServiceException(
        WorkflowExecution.newBuilder().setWorkflowId("review-app/4242/mr-7").build(),
        "ReviewApp",
        Status.NOT_FOUND.withDescription("Completed workflow").asRuntimeException());
  }
}
