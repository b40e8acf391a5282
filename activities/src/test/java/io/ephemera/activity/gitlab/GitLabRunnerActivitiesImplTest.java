package io.ephemera.activity.gitlab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The adapter over real HTTP against MockWebServer, which answers with the response shapes of
 * GitLab's REST v4 documentation and records what the adapter sent.
 */
class GitLabRunnerActivitiesImplTest {
  static final String API_TOKEN = "glpat-test-api-token-0123456789";
  static final String RUNNER_TOKEN = "glrt-t1_0123456789abcdefghij";
  static final String WORKFLOW_ID = "runner/42/job-7";
  static final String DESCRIPTION = "ephemera runner/42/job-7";
  static final JsonMapper JSON = JsonMapper.builder().build();

  MockWebServer server;
  InMemoryTokenStore tokens;
  GitLabRunnerActivitiesImpl activities;

  @BeforeEach
  void setUp() throws IOException {
    server = new MockWebServer();
    server.start(InetAddress.getLoopbackAddress(), 0);
    tokens = new InMemoryTokenStore();
    activities = new GitLabRunnerActivitiesImpl(client(server.url("/").toString()), tokens);
  }

  @AfterEach
  void tearDown() {
    server.close();
  }

  static GitLabClient client(String url) {
    return new GitLabClient(
        new GitLabProperties(url, API_TOKEN, Duration.ofSeconds(2), Duration.ofMillis(300)));
  }

  @Test
  void createRunnerRegistersAProjectRunnerForTheJobsTagsAndStoresItsToken() throws Exception {
    server.enqueue(json(200, "[]"));
    server.enqueue(json(201, created(9171, RUNNER_TOKEN)));

    RegisteredRunner runner =
        activities.createRunner(
            new CreateRunnerRequest(42, WORKFLOW_ID, List.of("docker", "large"), 3600));

    RecordedRequest list = take();
    assertThat(list.getMethod()).isEqualTo("GET");
    assertThat(list.getUrl().encodedPath()).isEqualTo("/api/v4/projects/42/runners");
    assertThat(list.getUrl().queryParameter("type")).isEqualTo("project_type");
    assertThat(list.getHeaders().get("PRIVATE-TOKEN")).isEqualTo(API_TOKEN);

    RecordedRequest create = take();
    assertThat(create.getMethod()).isEqualTo("POST");
    assertThat(create.getUrl().encodedPath()).isEqualTo("/api/v4/user/runners");
    assertThat(create.getHeaders().get("Content-Type")).startsWith("application/json");
    JsonNode body = JSON.readTree(create.getBody().utf8());
    assertThat(body.path("runner_type").asString()).isEqualTo("project_type");
    assertThat(body.path("project_id").asLong()).isEqualTo(42);
    assertThat(body.path("description").asString()).isEqualTo(DESCRIPTION);
    assertThat(strings(body.path("tag_list"))).containsExactly("docker", "large");
    assertThat(body.path("run_untagged").isBoolean()).isTrue();
    assertThat(body.path("run_untagged").asBoolean()).isFalse();
    assertThat(body.path("maximum_timeout").asInt()).isEqualTo(3600);
    assertThat(body.path("locked").asBoolean()).isTrue();

    assertThat(runner.runnerId()).isEqualTo(9171);
    assertThat(runner.tokenRef()).isEqualTo(InMemoryTokenStore.PREFIX + WORKFLOW_ID);
    assertThat(runner.toString()).doesNotContain(RUNNER_TOKEN);
    assertThat(tokens.find(WORKFLOW_ID).orElseThrow().token()).isEqualTo(RUNNER_TOKEN);
    assertThat(tokens.find(WORKFLOW_ID).orElseThrow().runnerId()).isEqualTo(9171);
  }

  @Test
  void anUntaggedJobsRunnerMayRunUntaggedJobsAndTheTimeoutMeetsGitLabsMinimum() throws Exception {
    server.enqueue(json(200, "[]"));
    server.enqueue(json(201, created(5, RUNNER_TOKEN)));

    activities.createRunner(new CreateRunnerRequest(42, WORKFLOW_ID, List.of(), 120));

    take();
    JsonNode body = JSON.readTree(take().getBody().utf8());
    // GitLab refuses a runner with no tags that may not run untagged jobs, and timeouts < 10 min.
    assertThat(body.path("run_untagged").asBoolean()).isTrue();
    assertThat(strings(body.path("tag_list"))).isEmpty();
    assertThat(body.path("maximum_timeout").asInt()).isEqualTo(600);
  }

  @Test
  void aRetriedCreateFindsTheRunnerItAlreadyMadeAndRegistersNoOther() throws Exception {
    server.enqueue(json(200, "[]"));
    server.enqueue(json(201, created(9171, RUNNER_TOKEN)));
    RegisteredRunner first =
        activities.createRunner(new CreateRunnerRequest(42, WORKFLOW_ID, List.of("docker"), 3600));
    take();
    take();

    // The retry (say the first answer was lost on the way to Temporal) lists the runner.
    server.enqueue(json(200, "[" + listed(9171, DESCRIPTION) + "," + listed(3, "shared") + "]"));
    RegisteredRunner again =
        activities.createRunner(new CreateRunnerRequest(42, WORKFLOW_ID, List.of("docker"), 3600));

    assertThat(again).isEqualTo(first);
    assertThat(take().getMethod()).isEqualTo("GET");
    assertThat(server.takeRequest(100, TimeUnit.MILLISECONDS)).isNull();
  }

  @Test
  void aRunnerWhoseTokenWasNeverStoredIsDeletedAndMadeAgain() throws Exception {
    // An earlier attempt created runner 9171 and died before storing its token.
    server.enqueue(json(200, "[" + listed(9171, DESCRIPTION) + "]"));
    server.enqueue(new MockResponse.Builder().code(204).build());
    server.enqueue(json(201, created(9172, RUNNER_TOKEN)));

    RegisteredRunner runner =
        activities.createRunner(new CreateRunnerRequest(42, WORKFLOW_ID, List.of("docker"), 3600));

    take();
    RecordedRequest delete = take();
    assertThat(delete.getMethod()).isEqualTo("DELETE");
    assertThat(delete.getUrl().encodedPath()).isEqualTo("/api/v4/runners/9171");
    assertThat(take().getMethod()).isEqualTo("POST");
    assertThat(runner.runnerId()).isEqualTo(9172);
  }

  @Test
  void theRunnerListIsReadPageByPage() throws Exception {
    server.enqueue(
        json(200, "[" + listed(1, "someone else") + "]")
            .newBuilder()
            .setHeader("X-Next-Page", "2")
            .build());
    server.enqueue(
        json(200, "[" + listed(9171, DESCRIPTION) + "]")
            .newBuilder()
            .setHeader("X-Next-Page", "")
            .build());
    tokens.put(WORKFLOW_ID, 9171, RUNNER_TOKEN);

    RegisteredRunner runner =
        activities.createRunner(new CreateRunnerRequest(42, WORKFLOW_ID, List.of("docker"), 3600));

    assertThat(runner.runnerId()).isEqualTo(9171);
    assertThat(take().getUrl().queryParameter("page")).isEqualTo("1");
    assertThat(take().getUrl().queryParameter("page")).isEqualTo("2");
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void aTokenStoreFailureRemovesTheRunnerItCouldNotKeep() throws Exception {
    server.enqueue(json(200, "[]"));
    server.enqueue(json(201, created(9171, RUNNER_TOKEN)));
    server.enqueue(new MockResponse.Builder().code(204).build());
    tokens.failNextPut();

    Throwable thrown =
        catchThrowable(
            () ->
                activities.createRunner(
                    new CreateRunnerRequest(42, WORKFLOW_ID, List.of("docker"), 3600)));

    assertThat(thrown).hasMessageContaining("token store unavailable");
    take();
    take();
    RecordedRequest delete = take();
    assertThat(delete.getMethod()).isEqualTo("DELETE");
    assertThat(delete.getUrl().encodedPath()).isEqualTo("/api/v4/runners/9171");
  }

  @Test
  void anAnswerWithoutTokenIsRetriedAndLeavesNoRunnerBehind() throws Exception {
    server.enqueue(json(200, "[]"));
    server.enqueue(json(201, "{\"id\": 9171, \"token_expires_at\": null}"));
    server.enqueue(new MockResponse.Builder().code(204).build());

    ApplicationFailure f =
        failure(
            () ->
                activities.createRunner(
                    new CreateRunnerRequest(42, WORKFLOW_ID, List.of("docker"), 3600)));

    assertThat(f.getType()).isEqualTo("GitLabUnavailable");
    assertThat(f.isNonRetryable()).isFalse();
    take();
    take();
    assertThat(take().getUrl().encodedPath()).isEqualTo("/api/v4/runners/9171");
    assertThat(tokens.find(WORKFLOW_ID)).isEmpty();
  }

  @Test
  void anOldGitLabWithoutUserRunnersSaysWhichVersionIsNeeded() {
    server.enqueue(json(200, "[]"));
    server.enqueue(json(404, "{\"error\":\"404 Not Found\"}"));

    ApplicationFailure f =
        failure(
            () ->
                activities.createRunner(
                    new CreateRunnerRequest(42, WORKFLOW_ID, List.of("docker"), 3600)));

    assertThat(f.getType()).isEqualTo("GitLabNotFound");
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).contains("GitLab 15.10 or newer").contains("project 42");
  }

  @Test
  void deleteRunnerDeletesTheWorkflowsRunnersAndItsToken() throws Exception {
    tokens.put(WORKFLOW_ID, 9171, RUNNER_TOKEN);
    server.enqueue(json(200, "[" + listed(9171, DESCRIPTION) + "," + listed(3, "shared") + "]"));
    server.enqueue(new MockResponse.Builder().code(204).build());

    activities.deleteRunner(new DeleteRunnerRequest(42, WORKFLOW_ID));

    take();
    RecordedRequest delete = take();
    assertThat(delete.getMethod()).isEqualTo("DELETE");
    assertThat(delete.getUrl().encodedPath()).isEqualTo("/api/v4/runners/9171");
    assertThat(server.takeRequest(100, TimeUnit.MILLISECONDS)).isNull();
    assertThat(tokens.find(WORKFLOW_ID)).isEmpty();
  }

  @Test
  void deletingAnAlreadyDeletedRunnerSucceeds() throws Exception {
    tokens.put(WORKFLOW_ID, 9171, RUNNER_TOKEN);
    // GitLab no longer lists it, and answers 404 to the delete of the id the store remembered.
    server.enqueue(json(200, "[]"));
    server.enqueue(json(404, "{\"message\":\"404 Not found\"}"));

    activities.deleteRunner(new DeleteRunnerRequest(42, WORKFLOW_ID));

    take();
    assertThat(take().getUrl().encodedPath()).isEqualTo("/api/v4/runners/9171");
    assertThat(tokens.find(WORKFLOW_ID)).isEmpty();
  }

  @Test
  void deletingTheRunnersOfAWorkflowThatHasNoneSucceeds() throws Exception {
    server.enqueue(json(200, "[]"));

    activities.deleteRunner(new DeleteRunnerRequest(42, WORKFLOW_ID));

    assertThat(take().getMethod()).isEqualTo("GET");
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void jobStateReadsStatusRunnerAndIgnoresTheRest() throws Exception {
    server.enqueue(json(200, job(7, "running", "{\"id\": 9171, \"description\": \"x\"}")));

    JobState state = activities.jobState(42, 7);

    assertThat(state).isEqualTo(new JobState(7, "running", 9171L));
    assertThat(take().getUrl().encodedPath()).isEqualTo("/api/v4/projects/42/jobs/7");
  }

  @Test
  void aPendingJobHasNoRunner() {
    server.enqueue(json(200, job(7, "pending", "null")));

    assertThat(activities.jobState(42, 7)).isEqualTo(new JobState(7, "pending", null));
  }

  @Test
  void runnerJobsAreAskedNewestFirst() throws Exception {
    server.enqueue(
        json(200, "[" + job(8, "success", "null") + "," + job(7, "failed", "null") + "]"));

    List<JobState> jobs = activities.runnerJobs(9171);

    assertThat(jobs)
        .containsExactly(new JobState(8, "success", 9171L), new JobState(7, "failed", 9171L));
    RecordedRequest request = take();
    assertThat(request.getUrl().encodedPath()).isEqualTo("/api/v4/runners/9171/jobs");
    assertThat(request.getUrl().queryParameter("order_by")).isEqualTo("id");
    assertThat(request.getUrl().queryParameter("sort")).isEqualTo("desc");
  }

  @Test
  void anUnknownJobFailsWithoutRetry() {
    server.enqueue(json(404, "{\"message\":\"404 Not found\"}"));

    ApplicationFailure f = failure(() -> activities.jobState(42, 7));

    assertThat(f.getType()).isEqualTo("GitLabNotFound");
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).contains("job 7 of project 42");
  }

  @Test
  void aForbiddenCreateNamesTheProjectAndTheCreateRunnerScope() {
    server.enqueue(json(200, "[]"));
    server.enqueue(json(403, "{\"message\":\"403 Forbidden\"}"));

    ApplicationFailure f =
        failure(
            () ->
                activities.createRunner(
                    new CreateRunnerRequest(42, WORKFLOW_ID, List.of("docker"), 3600)));

    assertThat(f.getType()).isEqualTo("GitLabForbidden");
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage())
        .contains("project 42")
        .contains("create_runner")
        .doesNotContain(API_TOKEN);
  }

  @Test
  void anUnauthorizedLookupNamesTheReadApiScope() {
    server.enqueue(json(401, "{\"message\":\"401 Unauthorized\"}"));

    ApplicationFailure f = failure(() -> activities.jobState(42, 7));

    assertThat(f.getType()).isEqualTo("GitLabForbidden");
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).contains("read_api").contains("HTTP 401");
  }

  @Test
  void aRateLimitIsRetriedAfterWhatRetryAfterSays() {
    server.enqueue(
        json(429, "{\"message\":\"Retry later\"}")
            .newBuilder()
            .setHeader("Retry-After", "7")
            .build());

    ApplicationFailure f = failure(() -> activities.jobState(42, 7));

    assertThat(f.getType()).isEqualTo("GitLabUnavailable");
    assertThat(f.isNonRetryable()).isFalse();
    assertThat(f.getNextRetryDelay()).isEqualTo(Duration.ofSeconds(7));
  }

  @Test
  void aServerErrorIsRetried() {
    server.enqueue(json(502, "{\"message\":\"502 Bad Gateway\"}"));

    ApplicationFailure f = failure(() -> activities.runnerJobs(9171));

    assertThat(f.getType()).isEqualTo("GitLabUnavailable");
    assertThat(f.isNonRetryable()).isFalse();
    assertThat(f.getNextRetryDelay()).isNull();
  }

  @Test
  void anUnreachableGitLabIsRetried() throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    GitLabRunnerActivitiesImpl offline =
        new GitLabRunnerActivitiesImpl(client("http://127.0.0.1:" + closedPort), tokens);

    ApplicationFailure f = failure(() -> offline.jobState(42, 7));

    assertThat(f.getType()).isEqualTo("GitLabUnavailable");
    assertThat(f.isNonRetryable()).isFalse();
    assertThat(f.getOriginalMessage()).contains("could not be reached");
  }

  @Test
  void aTokenInGitLabsErrorMessageIsNeverRepeated() {
    server.enqueue(json(200, "[]"));
    server.enqueue(json(400, "{\"message\":\"token " + RUNNER_TOKEN + " is odd\"}"));

    ApplicationFailure f =
        failure(
            () ->
                activities.createRunner(
                    new CreateRunnerRequest(42, WORKFLOW_ID, List.of("docker"), 3600)));

    assertThat(f.getType()).isEqualTo("GitLabInvalid");
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).contains("[redacted]").doesNotContain(RUNNER_TOKEN);
    assertThat(f.getCause()).hasMessageNotContaining(RUNNER_TOKEN);
  }

  @Test
  void failureTypesSurviveTheActivityBoundary() {
    server.enqueue(json(403, "{\"message\":\"403 Forbidden\"}"));
    TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    try {
      env.registerActivitiesImplementations(activities);
      GitLabRunnerActivities stub = env.newActivityStub(GitLabRunnerActivities.class);

      Throwable thrown = catchThrowable(() -> stub.jobState(42, 7));

      assertThat(thrown).isInstanceOf(ActivityFailure.class);
      assertThat(thrown.getCause()).isInstanceOf(ApplicationFailure.class);
      ApplicationFailure f = (ApplicationFailure) thrown.getCause();
      assertThat(f.getType()).isEqualTo("GitLabForbidden");
      assertThat(f.isNonRetryable()).isTrue();
    } finally {
      env.close();
    }
  }

  RecordedRequest take() throws InterruptedException {
    RecordedRequest r = server.takeRequest(2, TimeUnit.SECONDS);
    assertThat(r).as("a request to the fake GitLab").isNotNull();
    return r;
  }

  static ApplicationFailure failure(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(ApplicationFailure.class);
    return (ApplicationFailure) thrown;
  }

  static MockResponse json(int code, String body) {
    return new MockResponse.Builder()
        .code(code)
        .setHeader("Content-Type", "application/json")
        .body(body)
        .build();
  }

  static List<String> strings(JsonNode array) {
    List<String> s = new ArrayList<>();
    array.forEach(n -> s.add(n.asString()));
    return s;
  }

  /** {@code POST /user/runners}, as documented. */
  static String created(long id, String token) {
    return """
        {"id": %d, "token": "%s", "token_expires_at": null}"""
        .formatted(id, token);
  }

  /** One runner of {@code GET /projects/:id/runners}, as documented. */
  static String listed(long id, String description) {
    return """
        {"active": true, "paused": false, "description": "%s", "id": %d, "ip_address": null,
         "is_shared": false, "runner_type": "project_type", "name": null, "online": false,
         "status": "never_contacted"}"""
        .formatted(description, id);
  }

  /** {@code GET /projects/:id/jobs/:job_id}, as documented (abridged). */
  static String job(long id, String status, String runner) {
    return """
        {"commit": {"id": "0ff3ae198f8601a285adcf5c0fff204ee6fba5fd", "short_id": "0ff3ae19"},
         "coverage": null, "allow_failure": false, "created_at": "2015-12-24T15:51:21.880Z",
         "started_at": null, "finished_at": null, "duration": null,
         "tag_list": ["docker", "large"], "id": %d, "name": "build",
         "pipeline": {"id": 6, "project_id": 42, "ref": "main", "status": "pending"},
         "ref": "main", "artifacts": [], "runner": %s, "stage": "test", "status": "%s",
         "tag": false, "web_url": "https://gitlab.example.com/g/p/-/jobs/%d",
         "user": {"id": 1, "username": "root"}}"""
        .formatted(id, runner, status, id);
  }
}
