package io.ephemera.activity.gitlab;

import static io.ephemera.activity.gitlab.GitLabRunnerActivitiesImplTest.API_TOKEN;
import static io.ephemera.activity.gitlab.GitLabRunnerActivitiesImplTest.client;
import static io.ephemera.activity.gitlab.GitLabRunnerActivitiesImplTest.failure;
import static io.ephemera.activity.gitlab.GitLabRunnerActivitiesImplTest.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.failure.ApplicationFailure;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The feedback adapter over real HTTP against MockWebServer, answering with the response shapes of
 * GitLab's REST v4 documentation (Environments, Deployments, Notes, Commit status) and recording
 * what the adapter sent.
 */
class GitLabFeedbackActivitiesImplTest {
  static final JsonMapper JSON = JsonMapper.builder().build();
  static final String ENV = "review/mr-7";
  static final String URL = "https://mr-7.review.example.com";
  static final String SHA = "18f3e63d05582537db6d183d9d557be09e1f90c8";
  static final String MARKER = GitLabFeedbackActivitiesImpl.NOTE_MARKER;

  MockWebServer server;
  GitLabFeedbackActivitiesImpl activities;

  @BeforeEach
  void setUp() throws IOException {
    server = new MockWebServer();
    server.start(InetAddress.getLoopbackAddress(), 0);
    activities = new GitLabFeedbackActivitiesImpl(client(server.url("/").toString()));
  }

  @AfterEach
  void tearDown() {
    server.close();
  }

  // Environments

  @Test
  void anAbsentEnvironmentIsCreatedWithItsUrlInTheDevelopmentTier() throws Exception {
    server.enqueue(json(200, "[]"));
    server.enqueue(json(201, environment(12, ENV, URL, "available")));

    long id = activities.upsertEnvironment(new EnvironmentRequest(42, ENV, URL));

    assertThat(id).isEqualTo(12);
    RecordedRequest list = take();
    assertThat(list.getMethod()).isEqualTo("GET");
    assertThat(list.getUrl().encodedPath()).isEqualTo("/api/v4/projects/42/environments");
    assertThat(list.getUrl().queryParameter("name")).isEqualTo(ENV);
    assertThat(list.getHeaders().get("PRIVATE-TOKEN")).isEqualTo(API_TOKEN);
    RecordedRequest create = take();
    assertThat(create.getMethod()).isEqualTo("POST");
    assertThat(create.getUrl().encodedPath()).isEqualTo("/api/v4/projects/42/environments");
    JsonNode body = body(create);
    assertThat(body.path("name").asString()).isEqualTo(ENV);
    assertThat(body.path("external_url").asString()).isEqualTo(URL);
    assertThat(body.path("tier").asString()).isEqualTo("development");
  }

  @Test
  void anExistingEnvironmentGetsItsNewUrlAndNoSecondEnvironmentIsCreated() throws Exception {
    server.enqueue(
        json(200, "[" + environment(12, ENV, "https://old.example.com", "stopped") + "]"));
    server.enqueue(json(200, environment(12, ENV, URL, "stopped")));

    long id = activities.upsertEnvironment(new EnvironmentRequest(42, ENV, URL));

    assertThat(id).isEqualTo(12);
    take();
    RecordedRequest update = take();
    assertThat(update.getMethod()).isEqualTo("PUT");
    assertThat(update.getUrl().encodedPath()).isEqualTo("/api/v4/projects/42/environments/12");
    assertThat(body(update).path("external_url").asString()).isEqualTo(URL);
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void anEnvironmentWithTheSameUrlIsLeftAlone() throws Exception {
    server.enqueue(json(200, "[" + environment(12, ENV, URL, "available") + "]"));

    assertThat(activities.upsertEnvironment(new EnvironmentRequest(42, ENV, URL))).isEqualTo(12);
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void aCreateThatLostARaceUpdatesTheEnvironmentTheOtherAttemptMade() throws Exception {
    server.enqueue(json(200, "[]"));
    server.enqueue(json(400, "{\"message\": {\"name\": [\"has already been taken\"]}}"));
    server.enqueue(json(200, "[" + environment(12, ENV, URL, "available") + "]"));

    assertThat(activities.upsertEnvironment(new EnvironmentRequest(42, ENV, URL))).isEqualTo(12);
    assertThat(server.getRequestCount()).isEqualTo(3);
  }

  @Test
  void stopStopsTheEnvironmentFoundByName() throws Exception {
    server.enqueue(json(200, "[" + environment(12, ENV, URL, "available") + "]"));
    server.enqueue(json(200, environment(12, ENV, URL, "stopped")));

    activities.stopEnvironment(new EnvironmentRequest(42, ENV, null));

    take();
    RecordedRequest stop = take();
    assertThat(stop.getMethod()).isEqualTo("POST");
    assertThat(stop.getUrl().encodedPath()).isEqualTo("/api/v4/projects/42/environments/12/stop");
  }

  @Test
  void stoppingAnAbsentEnvironmentSucceeds() {
    server.enqueue(json(200, "[]"));

    activities.stopEnvironment(new EnvironmentRequest(42, ENV, null));

    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void stoppingAStoppedEnvironmentSucceedsWithoutAnotherStop() {
    server.enqueue(json(200, "[" + environment(12, ENV, URL, "stopped") + "]"));

    activities.stopEnvironment(new EnvironmentRequest(42, ENV, null));

    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  // Deployments

  @Test
  void aDeploymentIsCreatedThenItsStatusUpdated() throws Exception {
    server.enqueue(json(200, "[]"));
    server.enqueue(json(201, deployment(88, SHA, "running")));

    long id =
        activities.recordDeployment(
            new DeploymentRequest(42, ENV, SHA, "feature", "running", null));

    assertThat(id).isEqualTo(88);
    RecordedRequest list = take();
    assertThat(list.getUrl().encodedPath()).isEqualTo("/api/v4/projects/42/deployments");
    assertThat(list.getUrl().queryParameter("environment")).isEqualTo(ENV);
    assertThat(list.getUrl().queryParameter("sort")).isEqualTo("desc");
    RecordedRequest create = take();
    assertThat(create.getMethod()).isEqualTo("POST");
    assertThat(create.getUrl().encodedPath()).isEqualTo("/api/v4/projects/42/deployments");
    JsonNode body = body(create);
    assertThat(body.path("environment").asString()).isEqualTo(ENV);
    assertThat(body.path("sha").asString()).isEqualTo(SHA);
    assertThat(body.path("ref").asString()).isEqualTo("feature");
    assertThat(body.path("tag").isBoolean()).isTrue();
    assertThat(body.path("tag").asBoolean()).isFalse();
    assertThat(body.path("status").asString()).isEqualTo("running");

    server.enqueue(json(200, deployment(88, SHA, "success")));
    long updated =
        activities.recordDeployment(new DeploymentRequest(42, ENV, SHA, "feature", "success", 88L));

    assertThat(updated).isEqualTo(88);
    RecordedRequest update = take();
    assertThat(update.getMethod()).isEqualTo("PUT");
    assertThat(update.getUrl().encodedPath()).isEqualTo("/api/v4/projects/42/deployments/88");
    assertThat(body(update).path("status").asString()).isEqualTo("success");
    assertThat(server.getRequestCount()).isEqualTo(3);
  }

  @Test
  void aRetriedCreateReusesTheUnfinishedDeploymentOfTheSameSha() {
    server.enqueue(json(200, "[" + deployment(88, SHA, "running") + "]"));

    long id =
        activities.recordDeployment(
            new DeploymentRequest(42, ENV, SHA, "feature", "running", null));

    assertThat(id).isEqualTo(88);
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void aRetriedUpdateToTheStatusTheDeploymentAlreadyHasSucceeds() throws Exception {
    // GitLab answers 400 to a transition into the current state; the deployment says it is there.
    server.enqueue(json(400, "{\"message\": \"400 Bad request\"}"));
    server.enqueue(json(200, deployment(88, SHA, "success")));

    activities.recordDeployment(new DeploymentRequest(42, ENV, SHA, "feature", "success", 88L));

    take();
    RecordedRequest read = take();
    assertThat(read.getMethod()).isEqualTo("GET");
    assertThat(read.getUrl().encodedPath()).isEqualTo("/api/v4/projects/42/deployments/88");
  }

  @Test
  void anUpdateGitLabRejectsForAnotherReasonFails() {
    server.enqueue(json(400, "{\"message\": \"400 Bad request\"}"));
    server.enqueue(json(200, deployment(88, SHA, "failed")));

    ApplicationFailure f =
        failure(
            () ->
                activities.recordDeployment(
                    new DeploymentRequest(42, ENV, SHA, "feature", "success", 88L)));

    assertThat(f.getType()).isEqualTo("GitLabInvalid");
    assertThat(f.isNonRetryable()).isTrue();
  }

  // Notes

  @Test
  void theFirstNoteIsPostedWithTheMarkerAppended() throws Exception {
    server.enqueue(json(200, "[" + note(1, "LGTM", false) + "]"));
    server.enqueue(json(201, note(301, "Review app: " + URL + "\n\n" + MARKER, false)));

    long id = activities.upsertNote(new NoteRequest(42, 7, "Review app: " + URL, null));

    assertThat(id).isEqualTo(301);
    RecordedRequest list = take();
    assertThat(list.getUrl().encodedPath()).isEqualTo("/api/v4/projects/42/merge_requests/7/notes");
    assertThat(list.getUrl().queryParameter("sort")).isEqualTo("desc");
    assertThat(list.getUrl().queryParameter("order_by")).isEqualTo("updated_at");
    RecordedRequest create = take();
    assertThat(create.getMethod()).isEqualTo("POST");
    assertThat(create.getUrl().encodedPath())
        .isEqualTo("/api/v4/projects/42/merge_requests/7/notes");
    assertThat(body(create).path("body").asString())
        .startsWith("Review app: " + URL)
        .endsWith(MARKER);
  }

  @Test
  void aKnownNoteIsEditedByIdAndNoOtherNoteIsPosted() throws Exception {
    server.enqueue(json(200, note(301, "updated " + MARKER, false)));

    long id = activities.upsertNote(new NoteRequest(42, 7, "updated " + MARKER, 301L));

    assertThat(id).isEqualTo(301);
    RecordedRequest update = take();
    assertThat(update.getMethod()).isEqualTo("PUT");
    assertThat(update.getUrl().encodedPath())
        .isEqualTo("/api/v4/projects/42/merge_requests/7/notes/301");
    // The marker is there once, not appended again.
    assertThat(body(update).path("body").asString()).isEqualTo("updated " + MARKER);
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void aRetryWithoutTheIdFindsTheNoteByItsMarkerAndEditsIt() throws Exception {
    // The first post succeeded but its answer was lost: the retry knows no note id.
    server.enqueue(
        json(200, "[" + note(5, "nice", false) + "," + note(301, "old " + MARKER, false) + "]"));
    server.enqueue(json(200, note(301, "new " + MARKER, false)));

    long id = activities.upsertNote(new NoteRequest(42, 7, "new", null));

    assertThat(id).isEqualTo(301);
    take();
    RecordedRequest update = take();
    assertThat(update.getMethod()).isEqualTo("PUT");
    assertThat(update.getUrl().encodedPath())
        .isEqualTo("/api/v4/projects/42/merge_requests/7/notes/301");
    assertThat(server.getRequestCount()).isEqualTo(2);
  }

  @Test
  void theMarkerIsLookedForOnLaterPages() throws Exception {
    server.enqueue(
        json(200, "[" + note(5, "nice", false) + "]")
            .newBuilder()
            .setHeader("X-Next-Page", "2")
            .build());
    server.enqueue(
        json(200, "[" + note(301, "old " + MARKER, false) + "]")
            .newBuilder()
            .setHeader("X-Next-Page", "")
            .build());
    server.enqueue(json(200, note(301, "new " + MARKER, false)));

    assertThat(activities.upsertNote(new NoteRequest(42, 7, "new", null))).isEqualTo(301);
    assertThat(take().getUrl().queryParameter("page")).isEqualTo("1");
    assertThat(take().getUrl().queryParameter("page")).isEqualTo("2");
    assertThat(take().getMethod()).isEqualTo("PUT");
  }

  @Test
  void aDeletedNoteIsReplacedByTheOneFoundByMarkerOrANewOne() throws Exception {
    server.enqueue(json(404, "{\"message\": \"404 Not found\"}"));
    server.enqueue(json(200, "[" + note(5, "quoting " + MARKER, true) + "]"));
    server.enqueue(json(201, note(302, "body " + MARKER, false)));

    long id = activities.upsertNote(new NoteRequest(42, 7, "body", 301L));

    assertThat(id).isEqualTo(302);
    assertThat(take().getMethod()).isEqualTo("PUT");
    assertThat(take().getMethod()).isEqualTo("GET");
    RecordedRequest create = take();
    assertThat(create.getMethod()).isEqualTo("POST");
    assertThat(body(create).path("body").asString()).isEqualTo("body\n\n" + MARKER);
  }

  // Commit status

  @Test
  void theCommitStatusIsSetWithItsNameUrlAndRef() throws Exception {
    server.enqueue(json(201, status(93, SHA, "success")));

    activities.setCommitStatus(
        new CommitStatusRequest(42, SHA, "feature", "success", URL, "Review app ready"));

    RecordedRequest post = take();
    assertThat(post.getMethod()).isEqualTo("POST");
    assertThat(post.getUrl().encodedPath()).isEqualTo("/api/v4/projects/42/statuses/" + SHA);
    JsonNode body = body(post);
    assertThat(body.path("state").asString()).isEqualTo("success");
    assertThat(body.path("ref").asString()).isEqualTo("feature");
    assertThat(body.path("name").asString()).isEqualTo("ephemera/review-app");
    assertThat(body.path("target_url").asString()).isEqualTo(URL);
    assertThat(body.path("description").asString()).isEqualTo("Review app ready");
  }

  @Test
  void settingTheRunningStateAStatusAlreadyHasSucceeds() {
    server.enqueue(
        json(
            400,
            "{\"message\": \"Cannot transition status via :run from :running (Reason(s): Status"
                + " cannot transition via \\\"run\\\")\"}"));

    activities.setCommitStatus(new CommitStatusRequest(42, SHA, "feature", "running", URL, null));

    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void settingThePendingStateAStatusAlreadyHasSucceeds() {
    server.enqueue(
        json(400, "{\"message\": \"Cannot transition status via :enqueue from :pending\"}"));

    activities.setCommitStatus(new CommitStatusRequest(42, SHA, "feature", "pending", URL, null));
  }

  @Test
  void aTransitionErrorFromAnotherStateIsNotSwallowed() {
    server.enqueue(
        json(400, "{\"message\": \"Cannot transition status via :enqueue from :running\"}"));

    ApplicationFailure f =
        failure(
            () ->
                activities.setCommitStatus(
                    new CommitStatusRequest(42, SHA, "feature", "pending", URL, null)));

    assertThat(f.getType()).isEqualTo("GitLabInvalid");
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).contains("from :running");
  }

  // Errors

  @Test
  void aRateLimitIsRetriedAfterWhatRetryAfterSays() {
    server.enqueue(
        json(429, "{\"message\": \"Retry later\"}")
            .newBuilder()
            .setHeader("Retry-After", "30")
            .build());

    ApplicationFailure f =
        failure(() -> activities.upsertEnvironment(new EnvironmentRequest(42, ENV, URL)));

    assertThat(f.getType()).isEqualTo("GitLabUnavailable");
    assertThat(f.isNonRetryable()).isFalse();
    assertThat(f.getNextRetryDelay()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void aForbiddenNoteNamesTheProjectAndTheApiScope() {
    server.enqueue(json(403, "{\"message\": \"403 Forbidden\"}"));

    ApplicationFailure f = failure(() -> activities.upsertNote(new NoteRequest(42, 7, "b", null)));

    assertThat(f.getType()).isEqualTo("GitLabForbidden");
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage())
        .contains("project 42")
        .contains("api scope")
        .doesNotContain(API_TOKEN);
  }

  @Test
  void aServerErrorOnTheCommitStatusIsRetried() {
    server.enqueue(json(502, "{\"message\": \"502 Bad Gateway\"}"));

    ApplicationFailure f =
        failure(
            () ->
                activities.setCommitStatus(
                    new CommitStatusRequest(42, SHA, "feature", "success", URL, null)));

    assertThat(f.getType()).isEqualTo("GitLabUnavailable");
    assertThat(f.isNonRetryable()).isFalse();
  }

  RecordedRequest take() throws InterruptedException {
    RecordedRequest r = server.takeRequest(2, TimeUnit.SECONDS);
    assertThat(r).as("a request to the fake GitLab").isNotNull();
    return r;
  }

  static JsonNode body(RecordedRequest r) {
    return JSON.readTree(r.getBody().utf8());
  }

  /** One environment of the Environments API, as documented. */
  static String environment(long id, String name, String url, String state) {
    return """
        {"id": %d, "name": "%s", "slug": "review-mr-7-x2k4ab", "external_url": "%s",
         "state": "%s", "tier": "development", "created_at": "2024-01-19T08:40:25.934Z",
         "updated_at": "2024-01-19T08:40:25.934Z", "enable_advanced_logs_querying": false,
         "logs_api_path": "/project/-/logs/k8s.json", "auto_stop_at": null}"""
        .formatted(id, name, url, state);
  }

  /** One deployment of the Deployments API, as documented. */
  static String deployment(long id, String sha, String status) {
    return """
        {"id": %d, "iid": 2, "ref": "feature", "sha": "%s", "status": "%s",
         "created_at": "2024-01-19T08:40:25.934Z", "updated_at": "2024-01-19T08:40:25.934Z",
         "user": {"id": 1, "username": "ephemera-bot"}, "deployable": null,
         "environment": {"id": 12, "name": "review/mr-7", "external_url": "%s"}}"""
        .formatted(id, sha, status, URL);
  }

  /** One merge request note of the Notes API, as documented. */
  static String note(long id, String body, boolean system) {
    return """
        {"id": %d, "type": null, "body": %s, "author": {"id": 1, "username": "pipin"},
         "created_at": "2024-01-19T08:40:25.934Z", "updated_at": "2024-01-19T08:40:25.934Z",
         "system": %s, "noteable_id": 377, "noteable_type": "MergeRequest", "noteable_iid": 7,
         "resolvable": false, "confidential": false, "internal": false}"""
        .formatted(id, JSON.writeValueAsString(body), system);
  }

  /** A commit status of the Commit status API, as documented. */
  static String status(long id, String sha, String state) {
    return """
        {"id": %d, "sha": "%s", "ref": "feature", "status": "%s", "name": "ephemera/review-app",
         "target_url": "%s", "description": null, "created_at": "2024-01-19T08:40:25.934Z",
         "started_at": null, "finished_at": null, "allow_failure": false, "coverage": null,
         "author": {"id": 1, "username": "ephemera-bot"}}"""
        .formatted(id, sha, state, URL);
  }
}
