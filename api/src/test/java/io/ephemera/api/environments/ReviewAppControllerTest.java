package io.ephemera.api.environments;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.delete;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.content;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.header;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.jsonPath;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

import io.ephemera.apitest.ApiTestApplication;
import io.ephemera.apitest.Fixtures;
import io.ephemera.common.TaskQueues;
import io.ephemera.common.WorkflowIds;
import io.ephemera.reviewapp.ReviewAppRequest;
import io.ephemera.reviewapp.ReviewAppResult;
import io.ephemera.reviewapp.ReviewAppWorkflow;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import java.time.Duration;
import java.time.Instant;
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

/** The REST API against the Temporal test server, review apps opened the way GitLab opens them. */
@SpringBootTest(
    classes = ApiTestApplication.class,
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureMockMvc
class ReviewAppControllerTest {
  static final String API_TOKEN = "test-api-token";
  static final String PROBLEMS = "https://ephemera.io/problems/";
  static final String SHA = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";

  private static final AtomicLong NEXT_PROJECT = new AtomicLong(20_000);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  @Autowired MockMvc mvc;
  @Autowired WorkflowClient client;

  @Test
  void withoutABearerTokenGets401WithWwwAuthenticate() throws Exception {
    mvc.perform(get("/api/v1/review-apps"))
        .andExpect(status().isUnauthorized())
        .andExpect(header().string("WWW-Authenticate", "Bearer"))
        .andExpect(content().contentType("application/problem+json"))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "unauthorized"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"Bearer wrong", "Bearer ", "Basic dGVzdC1hcGktdG9rZW4=", API_TOKEN})
  void aWrongOrMalformedCredentialGets401(String authorization) throws Exception {
    mvc.perform(get("/api/v1/review-apps/1/1").header("Authorization", authorization))
        .andExpect(status().isUnauthorized())
        .andExpect(header().string("WWW-Authenticate", "Bearer"));
  }

  @Test
  void unknownPathsUnderTheApiAreAuthenticatedBeforeTheyAre404() throws Exception {
    mvc.perform(get("/api/v1/nothing-here")).andExpect(status().isUnauthorized());
    mvc.perform(authed(get("/api/v1/nothing-here")))
        .andExpect(status().isNotFound())
        .andExpect(jsonPath("$.type").value(PROBLEMS + "not-found"));
  }

  @Test
  void statusOfARunningReviewApp() throws Exception {
    long project = open();

    JsonNode body =
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> fetchStatus(project, 7), s -> "READY".equals(s.path("phase").asString()));

    assertThat(body.get("workflowId").asString()).isEqualTo(WorkflowIds.reviewApp(project, 7));
    assertThat(body.get("projectId").asLong()).isEqualTo(project);
    assertThat(body.get("projectPath").asString()).isEqualTo("gitlabhq/gitlab-test");
    assertThat(body.get("mrIid").asLong()).isEqualTo(7);
    assertThat(body.get("sha").asString()).isEqualTo(SHA);
    assertThat(body.get("url").asString()).isEqualTo("https://mr-7.review.test");
    assertThat(body.get("namespace").asString()).isEqualTo("review-" + project + "-mr-7");
    assertThat(body.get("deployments").asInt()).isEqualTo(1);
    assertThat(body.get("resources").isArray()).isTrue();
    assertThat(body.has("lastError")).isTrue();
    assertThat(body.has("stopReason")).isTrue();
    // ISO-8601 text, not epoch numbers.
    assertThat(Instant.parse(body.get("autoStopAt").asString())).isAfter(Instant.now());
  }

  @Test
  void statusOfAFinishedReviewAppComesFromItsResult() throws Exception {
    long project = open();
    String workflowId = WorkflowIds.reviewApp(project, 7);
    client.newUntypedWorkflowStub(workflowId).signal(ReviewAppWorkflow.SIGNAL_STOP, "done");
    client.newUntypedWorkflowStub(workflowId).getResult(ReviewAppResult.class);

    mvc.perform(authed(get("/api/v1/review-apps/{p}/7", project)))
        .andExpect(status().isOk())
        .andExpect(jsonPath("$.phase").value("STOPPED"))
        .andExpect(jsonPath("$.stopReason").value("done"))
        .andExpect(jsonPath("$.workflowId").value(workflowId));
  }

  @Test
  void aTerminatedReviewAppShowsNoPhaseAndSaysWhy() throws Exception {
    long project = open();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> "READY".equals(fetchStatus(project, 7).path("phase").asString()));
    client.newUntypedWorkflowStub(WorkflowIds.reviewApp(project, 7)).terminate("test");

    mvc.perform(authed(get("/api/v1/review-apps/{p}/7", project)))
        .andExpect(status().isOk())
        .andExpect(jsonPath("$.phase").isEmpty())
        .andExpect(jsonPath("$.url").value("https://mr-7.review.test"))
        .andExpect(jsonPath("$.lastError").value(Matchers.containsString("terminated")))
        .andExpect(
            jsonPath("$.lastError").value(Matchers.containsString("last known phase READY")));
  }

  @Test
  void anUnknownReviewAppIs404() throws Exception {
    mvc.perform(authed(get("/api/v1/review-apps/987654/3")))
        .andExpect(status().isNotFound())
        .andExpect(content().contentType("application/problem+json"))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "not-found"))
        .andExpect(jsonPath("$.status").value(404))
        .andExpect(jsonPath("$.instance").value("/api/v1/review-apps/987654/3"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"abc/1", "1/abc", "0/1", "1/0", "-4/1", "1/99999999999999999999", "1.5/2"})
  void invalidPathIdsAre400(String ids) throws Exception {
    mvc.perform(authed(get("/api/v1/review-apps/" + ids)))
        .andExpect(status().isBadRequest())
        .andExpect(content().contentType("application/problem+json"))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "invalid-field"))
        .andExpect(jsonPath("$.field").value(Matchers.oneOf("projectId", "iid")));
  }

  @Test
  void extendMovesTheAutoStop() throws Exception {
    long project = open();
    Instant before = Instant.now();

    String body =
        mvc.perform(extend(project, 7, "{\"duration\": \"PT48H\"}"))
            .andExpect(status().isOk())
            .andExpect(content().contentTypeCompatibleWith(MediaType.APPLICATION_JSON))
            .andReturn()
            .getResponse()
            .getContentAsString();

    Instant autoStopAt = Instant.parse(JSON.readTree(body).get("autoStopAt").asString());
    assertThat(autoStopAt)
        .isBetween(before.plus(Duration.ofHours(47)), before.plus(Duration.ofHours(49)));
    assertThat(fetchStatus(project, 7).get("autoStopAt").asString())
        .isEqualTo(autoStopAt.toString());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"duration\": \"soon\"}",
        "{\"duration\": \"PT0S\"}",
        "{\"duration\": \"-PT1H\"}",
        "{\"duration\": \"\"}",
        "{}"
      })
  void aBadDurationIs400BeforeTemporalIsAsked(String json) throws Exception {
    // No review app exists here: a 404 would mean Temporal was asked first.
    mvc.perform(extend(987654, 1, json))
        .andExpect(status().isBadRequest())
        .andExpect(content().contentType("application/problem+json"))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "invalid-duration"))
        .andExpect(jsonPath("$.field").value("duration"));
  }

  @Test
  void aDurationTheWorkflowRejectsIs400WithItsMessage() throws Exception {
    long project = open();
    mvc.perform(extend(project, 7, "{\"duration\": \"P60D\"}"))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.type").value(PROBLEMS + "invalid-duration"))
        .andExpect(jsonPath("$.detail").value(Matchers.containsString("longer than the maximum")));
  }

  @Test
  void extendingAStoppingReviewAppIsRejected() throws Exception {
    long project = open();
    mvc.perform(authed(post("/api/v1/review-apps/{p}/7/stop", project)))
        .andExpect(status().isAccepted());
    // Stopped already, or stopping: either way there is nothing to extend.
    mvc.perform(extend(project, 7, "{\"duration\": \"PT1H\"}"))
        .andExpect(status().is4xxClientError())
        .andExpect(
            jsonPath("$.type")
                .value(Matchers.oneOf(PROBLEMS + "not-found", PROBLEMS + "update-rejected")));
  }

  @Test
  void extendingAnUnknownReviewAppIs404() throws Exception {
    mvc.perform(extend(987654, 2, "{\"duration\": \"PT1H\"}"))
        .andExpect(status().isNotFound())
        .andExpect(jsonPath("$.type").value(PROBLEMS + "not-found"));
  }

  @Test
  void extendWithoutABodyIs400AndWithoutJsonIs415() throws Exception {
    mvc.perform(
            authed(post("/api/v1/review-apps/1/1/extend")).contentType(MediaType.APPLICATION_JSON))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.type").value(PROBLEMS + "malformed-payload"))
        .andExpect(jsonPath("$.detail").value("The request body is missing."));
    mvc.perform(
            authed(post("/api/v1/review-apps/1/1/extend"))
                .contentType(MediaType.TEXT_PLAIN)
                .content("PT1H"))
        .andExpect(status().isUnsupportedMediaType())
        .andExpect(content().contentType("application/problem+json"))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "unsupported-media-type"));
    mvc.perform(
            authed(post("/api/v1/review-apps/1/1/extend"))
                .contentType(MediaType.APPLICATION_JSON)
                .content("{\"duration\": "))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.type").value(PROBLEMS + "malformed-payload"));
  }

  @Test
  void stopSignalsTheReviewAppWithTheGivenReason() throws Exception {
    long project = open();
    String workflowId = WorkflowIds.reviewApp(project, 7);

    mvc.perform(
            authed(post("/api/v1/review-apps/{p}/7/stop", project))
                .contentType(MediaType.APPLICATION_JSON)
                .content("{\"reason\": \"demo is over\"}"))
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.accepted").value("stop"))
        .andExpect(jsonPath("$.workflowId").value(workflowId))
        .andExpect(jsonPath("$.reason").value("demo is over"));

    ReviewAppResult result =
        client.newUntypedWorkflowStub(workflowId).getResult(ReviewAppResult.class);
    assertThat(result.finalStatus().stopReason()).isEqualTo("demo is over");
  }

  @Test
  void stopWithoutABodyUsesADefaultReason() throws Exception {
    long project = open();
    mvc.perform(authed(post("/api/v1/review-apps/{p}/7/stop", project)))
        .andExpect(status().isAccepted())
        .andExpect(jsonPath("$.reason").value("stopped through the API"));
  }

  @Test
  void stoppingAnUnknownOrFinishedReviewAppIs404() throws Exception {
    mvc.perform(authed(post("/api/v1/review-apps/987654/4/stop")))
        .andExpect(status().isNotFound())
        .andExpect(jsonPath("$.type").value(PROBLEMS + "not-found"));

    long project = open();
    String workflowId = WorkflowIds.reviewApp(project, 7);
    client.newUntypedWorkflowStub(workflowId).signal(ReviewAppWorkflow.SIGNAL_STOP, "done");
    client.newUntypedWorkflowStub(workflowId).getResult(ReviewAppResult.class);
    mvc.perform(authed(post("/api/v1/review-apps/{p}/7/stop", project)))
        .andExpect(status().isNotFound());
  }

  @Test
  void listShowsOpenReviewAppsFilteredByPhase() throws Exception {
    long ready = open();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> "READY".equals(fetchStatus(ready, 7).path("phase").asString()));
    long pending = NEXT_PROJECT.incrementAndGet();
    // Started without a deploy signal: it stays PENDING.
    ReviewAppWorkflow workflow =
        client.newWorkflowStub(
            ReviewAppWorkflow.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(WorkflowIds.reviewApp(pending, 3))
                .setTaskQueue(TaskQueues.REVIEW_APPS)
                .build());
    WorkflowClient.start(workflow::run, new ReviewAppRequest(pending, "group/pending", 3, "t"));
    long stopped = open();
    client
        .newUntypedWorkflowStub(WorkflowIds.reviewApp(stopped, 7))
        .signal(ReviewAppWorkflow.SIGNAL_STOP, "x");
    client
        .newUntypedWorkflowStub(WorkflowIds.reviewApp(stopped, 7))
        .getResult(ReviewAppResult.class);

    assertThat(listedIds("")).contains(id(ready, 7), id(pending, 3)).doesNotContain(id(stopped, 7));
    assertThat(listedIds("?phase=READY")).contains(id(ready, 7)).doesNotContain(id(pending, 3));
    assertThat(listedIds("?phase=pending")).contains(id(pending, 3)).doesNotContain(id(ready, 7));
  }

  @Test
  void listWithAnUnknownPhaseIs400() throws Exception {
    mvc.perform(authed(get("/api/v1/review-apps").param("phase", "GREEN")))
        .andExpect(status().isBadRequest())
        .andExpect(jsonPath("$.field").value("phase"))
        .andExpect(jsonPath("$.detail").value(Matchers.containsString("READY")));
  }

  @Test
  void aWrongMethodIs405Problem() throws Exception {
    mvc.perform(authed(delete("/api/v1/review-apps/1/1")))
        .andExpect(status().isMethodNotAllowed())
        .andExpect(content().contentType("application/problem+json"))
        .andExpect(jsonPath("$.type").value(PROBLEMS + "method-not-allowed"));
    mvc.perform(get("/webhooks/gitlab"))
        .andExpect(status().isMethodNotAllowed())
        .andExpect(jsonPath("$.type").value(PROBLEMS + "method-not-allowed"));
  }

  /** Opens a review app through the webhook, as GitLab would; returns its project id. */
  private long open() throws Exception {
    long project = NEXT_PROJECT.incrementAndGet();
    mvc.perform(
            post("/webhooks/gitlab")
                .contentType(MediaType.APPLICATION_JSON)
                .header("X-Gitlab-Token", "test-webhook-token")
                .header("X-Gitlab-Event", "Merge Request Hook")
                .content(
                    Fixtures.toBytes(Fixtures.mergeRequest("merge-request-open.json", project, 7))))
        .andExpect(status().isAccepted());
    return project;
  }

  private JsonNode fetchStatus(long project, long iid) throws Exception {
    String body =
        mvc.perform(authed(get("/api/v1/review-apps/{p}/{i}", project, iid)))
            .andExpect(status().isOk())
            .andReturn()
            .getResponse()
            .getContentAsString();
    return JSON.readTree(body);
  }

  private java.util.List<String> listedIds(String query) throws Exception {
    String body =
        mvc.perform(authed(get("/api/v1/review-apps" + query)))
            .andExpect(status().isOk())
            .andReturn()
            .getResponse()
            .getContentAsString();
    java.util.List<String> ids = new java.util.ArrayList<>();
    JSON.readTree(body).get("items").forEach(item -> ids.add(item.get("workflowId").asString()));
    return ids;
  }

  private static MockHttpServletRequestBuilder extend(long project, long iid, String json) {
    return authed(post("/api/v1/review-apps/{p}/{i}/extend", project, iid))
        .contentType(MediaType.APPLICATION_JSON)
        .content(json);
  }

  private static MockHttpServletRequestBuilder authed(MockHttpServletRequestBuilder request) {
    return request.header("Authorization", "Bearer " + API_TOKEN);
  }

  private static String id(long project, long iid) {
    return WorkflowIds.reviewApp(project, iid);
  }
}
