package io.ephemera.api.runners;

import static io.ephemera.apitest.FakeRunnerWorkflow.runnerIdOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

import io.ephemera.apitest.ApiTestApplication;
import io.ephemera.apitest.Fixtures;
import io.ephemera.common.WorkflowIds;
import io.ephemera.runner.RunnerStatus;
import io.ephemera.runner.RunnerWorkflow;
import io.temporal.client.WorkflowClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.hamcrest.Matchers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webmvc.test.autoconfigure.AutoConfigureMockMvc;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.request.MockHttpServletRequestBuilder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** The runners REST API against the Temporal test server, runners started the way GitLab does. */
@SpringBootTest(
    classes = ApiTestApplication.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureMockMvc
class RunnerControllerTest {
  static final String API_TOKEN = "test-api-token";
  static final String PROBLEMS = "https://ephemera.io/problems/";

  private static final AtomicLong NEXT_PROJECT = new AtomicLong(40_000);
  private static final AtomicLong NEXT_JOB = new AtomicLong(8_000_000);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @Autowired MockMvc mvc;
  @Autowired WorkflowClient client;

  @Test
  void withoutABearerTokenEveryRunnersEndpointIs401() throws Exception {
    for (MockHttpServletRequestBuilder request :
        List.of(
            get("/api/v1/runners"),
            get("/api/v1/runners/1/2"),
            post("/api/v1/runners/1/2/stop"),
            get("/api/v1/runners/1/2").header("Authorization", "Bearer wrong"))) {
      mvc.perform(request)
          .andExpect(status().isUnauthorized())
          .andExpect(header().string("WWW-Authenticate", "Bearer"))
          .andExpect(content().contentType("application/problem+json"))
          .andExpect(jsonPath("$.type").value(PROBLEMS + "unauthorized"));
    }
  }

  @Test
  void statusOfARunningRunner() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = start(project);

    JsonNode body =
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> fetch(project, job), b -> "WAITING".equals(b.path("phase").asString()));

    assertThat(body.get("workflowId").asString()).isEqualTo(WorkflowIds.runner(project, job));
    assertThat(body.get("projectId").asLong()).isEqualTo(project);
    assertThat(body.get("jobId").asLong()).isEqualTo(job);
    assertThat(body.get("jobName").asString()).isEqualTo("test");
    assertThat(body.get("phase").asString()).isEqualTo("WAITING");
    assertThat(body.get("route").asString()).isEqualTo("k8s-small");
    assertThat(body.get("type").asString()).isEqualTo("KUBERNETES");
    assertThat(body.get("runnerId").asLong()).isEqualTo(runnerIdOf(job));
    assertThat(body.get("computeId").asString()).isEqualTo("pod/runner-" + job);
    assertThat(body.get("jobsRun").asInt()).isZero();
    assertThat(body.has("ranJobId")).isTrue();
    assertThat(body.has("outcome")).isTrue();
    assertThat(body.has("lastError")).isTrue();
    assertThat(body.get("finishedAt").isNull()).isTrue();
    // ISO-8601 text, not epoch numbers.
    Instant created = Instant.parse(body.get("createdAt").asString());
    assertThat(created).isBefore(Instant.now().plusSeconds(1));
    assertThat(phases(body)).containsExactly("REGISTERING", "PROVISIONING", "WAITING");
    assertThat(body.get("history").get(0).get("note").asString()).isEqualTo("route k8s-small");
    Instant.parse(body.get("history").get(2).get("at").asString());
  }

  @Test
  void aFinishedRunnerShowsItsResultWithItsWholeHistory() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = start(project);
    String workflowId = WorkflowIds.runner(project, job);
    ObjectNode running =
        Fixtures.onRunner(
            Fixtures.job("job-running.json", project, job),
            runnerIdOf(job),
            WorkflowIds.runnerDescription(workflowId));
    ObjectNode success =
        Fixtures.onRunner(
            Fixtures.job("job-success.json", project, job),
            runnerIdOf(job),
            WorkflowIds.runnerDescription(workflowId));
    hook(running);
    hook(success);
    client.newUntypedWorkflowStub(workflowId).getResult(RunnerStatus.class);

    JsonNode body = fetch(project, job);

    assertThat(body.get("phase").asString()).isEqualTo("FINISHED");
    assertThat(body.get("jobsRun").asInt()).isEqualTo(1);
    assertThat(body.get("ranJobId").asLong()).isEqualTo(job);
    assertThat(body.get("outcome").asString()).isEqualTo("job " + job + " success");
    assertThat(Instant.parse(body.get("finishedAt").asString()))
        .isAfterOrEqualTo(Instant.parse(body.get("createdAt").asString()));
    assertThat(phases(body))
        .containsExactly(
            "REGISTERING", "PROVISIONING", "WAITING", "RUNNING", "DRAINING", "FINISHED");
  }

  @Test
  void aTerminatedRunnerShowsNoPhaseAndSaysWhy() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = start(project);
    // Once a workflow task has completed: a run terminated before its first has no state to show.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> "WAITING".equals(fetch(project, job).get("phase").asString()));
    client.newUntypedWorkflowStub(WorkflowIds.runner(project, job)).terminate("test");

    mvc.perform(authed(get("/api/v1/runners/{p}/{j}", project, job)))
        .andExpect(status().isOk())
        .andExpect(jsonPath("$.phase").isEmpty())
        .andExpect(jsonPath("$.runnerId").value(runnerIdOf(job)))
        .andExpect(jsonPath("$.computeId").value("pod/runner-" + job))
        .andExpect(jsonPath("$.lastError").value(Matchers.containsString("terminated")))
        .andExpect(
            jsonPath("$.lastError").value(Matchers.containsString("last known phase WAITING")));
  }

  @Test
  void anUnknownRunnerIs404() throws Exception {
    mvc.perform(authed(get("/api/v1/runners/987654/3")))
        .andExpect(status().isNotFound())
        .andExpect(content().contentType("application/problem+json"))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "not-found"))
        .andExpect(jsonPath("$.instance").value("/api/v1/runners/987654/3"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"abc/1", "1/abc", "0/1", "1/0", "-4/1", "1/99999999999999999999"})
  void invalidPathIdsAre400(String ids) throws Exception {
    mvc.perform(authed(get("/api/v1/runners/" + ids)))
        .andExpect(status().isBadRequest())
        .andExpect(content().contentType("application/problem+json"))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "invalid-field"))
        .andExpect(jsonPath("$.field").value(Matchers.oneOf("projectId", "jobId")));
  }

  @Test
  void listShowsOpenRunnersFilteredByPhase() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long waiting = start(project);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> "WAITING".equals(fetch(project, waiting).path("phase").asString()));
    long running = start(project);
    hook(
        Fixtures.onRunner(
            Fixtures.job("job-running.json", project, running),
            runnerIdOf(running),
            WorkflowIds.runnerDescription(WorkflowIds.runner(project, running))));
    long stopped = start(project);
    mvc.perform(authed(post("/api/v1/runners/{p}/{j}/stop", project, stopped)))
        .andExpect(status().isAccepted());
    client
        .newUntypedWorkflowStub(WorkflowIds.runner(project, stopped))
        .getResult(RunnerStatus.class);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> "RUNNING".equals(fetch(project, running).get("phase").asString()));

    assertThat(listedIds(""))
        .contains(id(project, waiting), id(project, running))
        .doesNotContain(id(project, stopped));
    assertThat(listedIds("?phase=WAITING"))
        .contains(id(project, waiting))
        .doesNotContain(id(project, running));
    assertThat(listedIds("?phase=running"))
        .contains(id(project, running))
        .doesNotContain(id(project, waiting));
  }

  @Test
  void listWithAnUnknownPhaseIs400() throws Exception {
    mvc.perform(authed(get("/api/v1/runners").param("phase", "IDLE")))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.field").value("phase"))
        .andExpect(jsonPath("$.detail").value(Matchers.containsString("WAITING")));
  }

  @Test
  void stopSignalsTheRunnerWithTheGivenReason() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = start(project);
    String workflowId = WorkflowIds.runner(project, job);

    mvc.perform(
            authed(post("/api/v1/runners/{p}/{j}/stop", project, job))
                .contentType(MediaType.APPLICATION_JSON)
                .content("{\"reason\": \"job moved elsewhere\"}"))
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("stop"))
        .andExpect(jsonPath("$.workflowId").value(workflowId))
        .andExpect(jsonPath("$.reason").value("job moved elsewhere"));

    RunnerStatus result = client.newUntypedWorkflowStub(workflowId).getResult(RunnerStatus.class);
    assertThat(result.outcome()).isEqualTo("stopped: job moved elsewhere");
  }

  @Test
  void stopWithoutABodyUsesADefaultReasonAndATooLongOneIs400() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    long job = start(project);
    mvc.perform(
            authed(post("/api/v1/runners/{p}/{j}/stop", project, job))
                .contentType(MediaType.APPLICATION_JSON)
                .content("{\"reason\": \"" + "x".repeat(501) + "\"}"))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.field").value("reason"));

    mvc.perform(authed(post("/api/v1/runners/{p}/{j}/stop", project, job)))
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.reason").value("stopped through the API"));
  }

  @Test
  void stoppingAnUnknownOrFinishedRunnerIs404() throws Exception {
    mvc.perform(authed(post("/api/v1/runners/987654/4/stop")))
        .andExpect(status().isNotFound())
        .andExpect(jsonPath("$.type").value(PROBLEMS + "not-found"));

    long project = NEXT_PROJECT.incrementAndGet();
    long job = start(project);
    String workflowId = WorkflowIds.runner(project, job);
    client.newUntypedWorkflowStub(workflowId).signal(RunnerWorkflow.SIGNAL_STOP, "done");
    client.newUntypedWorkflowStub(workflowId).getResult(RunnerStatus.class);
    mvc.perform(authed(post("/api/v1/runners/{p}/{j}/stop", project, job)))
        .andExpect(status().isNotFound());
  }

  /** Starts a runner through the webhook, as GitLab would; returns the job id. */
  private long start(long project) throws Exception {
    long job = NEXT_JOB.incrementAndGet();
    hook(Fixtures.job("job-pending.json", project, job));
    return job;
  }

  private void hook(ObjectNode payload) throws Exception {
    mvc.perform(
            post("/webhooks/gitlab")
                .contentType(MediaType.APPLICATION_JSON)
                .header("X-Gitlab-Token", "test-webhook-token")
                .header("X-Gitlab-Event", "Job Hook")
                .content(Fixtures.toBytes(payload)))
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").exists());
  }

  private JsonNode fetch(long project, long job) throws Exception {
    String body =
        mvc.perform(authed(get("/api/v1/runners/{p}/{j}", project, job)))
            .andExpect(status().isOk())
            .andExpect(content().contentTypeCompatibleWith(MediaType.APPLICATION_JSON))
            .andReturn()
            .getResponse()
            .getContentAsString();
    return JSON.readTree(body);
  }

  private static List<String> phases(JsonNode body) {
    List<String> phases = new ArrayList<>();
    body.get("history").forEach(step -> phases.add(step.get("phase").asString()));
    return phases;
  }

  private List<String> listedIds(String query) throws Exception {
    String body =
        mvc.perform(authed(get("/api/v1/runners" + query)))
            .andExpect(status().isOk())
            .andReturn()
            .getResponse()
            .getContentAsString();
    List<String> ids = new ArrayList<>();
    JSON.readTree(body).get("items").forEach(item -> ids.add(item.get("workflowId").asString()));
    return ids;
  }

  private static MockHttpServletRequestBuilder authed(MockHttpServletRequestBuilder request) {
    return request.header("Authorization", "Bearer " + API_TOKEN);
  }

  private static String id(long project, long job) {
    return WorkflowIds.runner(project, job);
  }
}
