package io.ephemera.api.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.verifyNoInteractions;
import static org.mockito.Mockito.when;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

import io.ephemera.api.error.ProblemHandlers;
import io.ephemera.apitest.Fixtures;
import io.ephemera.reviewapp.ReviewAppWorkflow;
import io.ephemera.runner.JobTagsLookup;
import io.ephemera.runner.RouteLookup;
import io.ephemera.runner.RunnerRoute;
import io.ephemera.runner.RunnerType;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.client.BatchRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowServiceException;
import io.temporal.client.WorkflowStub;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.hamcrest.Matchers;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.ResultActions;
import org.springframework.test.web.servlet.setup.MockMvcBuilders;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.json.JsonMapper;

/**
 * What GitLab hears when Temporal cannot record a delivery (it must never be a 2xx: GitLab would
 * consider the event delivered), and when the receiver itself is not configured.
 */
class TemporalUnavailableTest {
  static final String TOKEN = "t0ken";
  static final WebhookProperties PROPERTIES =
      new WebhookProperties(
          List.of(TOKEN), DataSize.ofKilobytes(64), false, Set.of(), Duration.ofSeconds(1));

  @Test
  void temporalRefusingTheSignalWithStartGets503WithRetryAfter() throws Exception {
    WorkflowClient client = mock(WorkflowClient.class);
    when(client.newWorkflowStub(eq(ReviewAppWorkflow.class), any(WorkflowOptions.class)))
        .thenReturn(mock(ReviewAppWorkflow.class));
    when(client.newSignalWithStartRequest()).thenReturn(mock(BatchRequest.class));
    when(client.signalWithStart(any())).thenThrow(serviceException(Status.UNAVAILABLE));

    deliver(client, "merge-request-open.json")
        .andExpect(status().isServiceUnavailable())
        .andExpect(content().contentType("application/problem+json"))
        .andExpect(header().string("Retry-After", "10"))
        .andExpect(jsonPath("$.type").value("https://ephemera.io/problems/temporal-unavailable"))
        .andExpect(jsonPath("$.detail").value(Matchers.containsString("redeliver it")))
        .andExpect(jsonPath("$.detail").value(Matchers.containsString("Recent events")));
  }

  @Test
  void aStopTemporalCannotRecordGets503NotANoOp() throws Exception {
    WorkflowClient client = mock(WorkflowClient.class);
    WorkflowStub stub = mock(WorkflowStub.class);
    when(client.newUntypedWorkflowStub(anyString())).thenReturn(stub);
    org.mockito.Mockito.doThrow(serviceException(Status.DEADLINE_EXCEEDED))
        .when(stub)
        .signal(any(), any());

    deliver(client, "merge-request-close.json")
        .andExpect(status().isServiceUnavailable())
        .andExpect(header().exists("Retry-After"));
  }

  @Test
  void temporalNotListeningGets503WithinTheDeliveryTimeout() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    // Default client options: the SDK alone would retry the unreachable server for a minute.
    WorkflowServiceStubs stubs =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:" + closedPort).build());
    try {
      long started = System.nanoTime();
      deliver(WorkflowClient.newInstance(stubs), "merge-request-open.json")
          .andExpect(status().isServiceUnavailable())
          .andExpect(header().string("Retry-After", "10"))
          .andExpect(jsonPath("$.type").value("https://ephemera.io/problems/temporal-unavailable"));
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
    } finally {
      stubs.shutdownNow();
    }
  }

  @Test
  void otherTemporalFailuresAreAnErrorNotA2xx() throws Exception {
    WorkflowClient client = mock(WorkflowClient.class);
    when(client.newWorkflowStub(eq(ReviewAppWorkflow.class), any(WorkflowOptions.class)))
        .thenReturn(mock(ReviewAppWorkflow.class));
    when(client.newSignalWithStartRequest()).thenReturn(mock(BatchRequest.class));
    when(client.signalWithStart(any())).thenThrow(serviceException(Status.PERMISSION_DENIED));

    deliver(client, "merge-request-open.json")
        .andExpect(status().isInternalServerError())
        .andExpect(jsonPath("$.type").value("https://ephemera.io/problems/internal-error"));
  }

  @Test
  void withNoWebhookTokenConfiguredEveryDeliveryGets401SayingSo() throws Exception {
    WorkflowClient client = mock(WorkflowClient.class);
    WebhookProperties unconfigured =
        new WebhookProperties(List.of(" ", ""), DataSize.ofKilobytes(64), false, Set.of(), null);

    mvc(client, unconfigured)
        .perform(
            post("/webhooks/gitlab")
                .contentType("application/json")
                .header("X-Gitlab-Token", "")
                .content(Fixtures.bytes("merge-request-open.json")))
        .andExpect(status().isUnauthorized())
        .andExpect(jsonPath("$.type").value("https://ephemera.io/problems/unauthorized"))
        .andExpect(
            jsonPath("$.detail").value(Matchers.containsString("No webhook token is configured")));
    verifyNoInteractions(client);
  }

  @Test
  void temporalIsNotCalledForARejectedDelivery() throws Exception {
    WorkflowClient client = mock(WorkflowClient.class);
    mvc(client, PROPERTIES)
        .perform(
            post("/webhooks/gitlab")
                .contentType("application/json")
                .header("X-Gitlab-Token", "wrong")
                .content(Fixtures.bytes("merge-request-open.json")))
        .andExpect(status().isUnauthorized());
    verify(client, never()).signalWithStart(any());
  }

  @Test
  void withoutARoutingTableEveryJobHookIsIgnoredAndTemporalIsNotAsked() throws Exception {
    WorkflowClient client = mock(WorkflowClient.class);
    for (String fixture : List.of("job-pending.json", "job-running.json", "job-success.json")) {
      mvc(client, PROPERTIES)
          .perform(
              post("/webhooks/gitlab")
                  .contentType("application/json")
                  .header("X-Gitlab-Event", "Job Hook")
                  .header("X-Gitlab-Token", TOKEN)
                  .content(Fixtures.bytes(fixture)))
          .andExpect(status().isAccepted())
          .andExpect(jsonPath("$.ignored").value("runners not configured"));
    }
    verifyNoInteractions(client);
  }

  @Test
  void temporalNotListeningWhenAPendingJobArrivesGets503WithinTheDeliveryTimeout()
      throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    WorkflowServiceStubs stubs =
        WorkflowServiceStubs.newServiceStubs(
            WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:" + closedPort).build());
    StaticListableBeanFactory beans = new StaticListableBeanFactory();
    beans.addBean("routes", new EveryJobOnePod());
    try {
      long started = System.nanoTime();
      mvc(WorkflowClient.newInstance(stubs), PROPERTIES, beans)
          .perform(
              post("/webhooks/gitlab")
                  .contentType("application/json")
                  .header("X-Gitlab-Event", "Job Hook")
                  .header("X-Gitlab-Token", TOKEN)
                  .content(Fixtures.bytes("job-pending.json")))
          .andExpect(status().isServiceUnavailable())
          .andExpect(header().string("Retry-After", "10"))
          .andExpect(jsonPath("$.type").value("https://ephemera.io/problems/temporal-unavailable"));
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
    } finally {
      stubs.shutdownNow();
    }
  }

  /** A routing table serving every project with one pod route. */
  private static final class EveryJobOnePod implements RouteLookup {
    @Override
    public Optional<RunnerRoute> route(long projectId, String jobName, List<String> tags) {
      return Optional.of(
          new RunnerRoute("pod", RunnerType.KUBERNETES, "1", "1Gi", null, null, null, null));
    }

    @Override
    public boolean servesProject(long projectId) {
      return true;
    }
  }

  private static ResultActions deliver(WorkflowClient client, String fixture) throws Exception {
    return mvc(client, PROPERTIES)
        .perform(
            post("/webhooks/gitlab")
                .contentType("application/json")
                .header("X-Gitlab-Event", "Merge Request Hook")
                .header("X-Gitlab-Token", TOKEN)
                .header("Idempotency-Key", "k-1")
                .content(Fixtures.bytes(fixture)));
  }

  private static MockMvc mvc(WorkflowClient client, WebhookProperties properties) {
    return mvc(client, properties, new StaticListableBeanFactory());
  }

  /** {@code beans} holds what the importing application provides: RouteLookup, JobTagsLookup. */
  private static MockMvc mvc(
      WorkflowClient client, WebhookProperties properties, StaticListableBeanFactory beans) {
    GitLabWebhookController controller =
        new GitLabWebhookController(
            properties,
            new WebhookRouter(client, properties),
            new JobRouter(
                client,
                beans.getBeanProvider(RouteLookup.class),
                beans.getBeanProvider(JobTagsLookup.class),
                properties),
            JsonMapper.builder().build());
    return MockMvcBuilders.standaloneSetup(controller)
        .setControllerAdvice(ProblemHandlers.advice())
        .build();
  }

  private static WorkflowServiceException serviceException(Status status) {
    return new WorkflowServiceException(
        WorkflowExecution.newBuilder().setWorkflowId("review-app/4242/mr-7").build(),
        ReviewAppWorkflow.TYPE,
        new StatusRuntimeException(status));
  }
}
