package io.ephemera.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.ephemera.activity.gitlab.CreateRunnerRequest;
import io.ephemera.activity.gitlab.DeleteRunnerRequest;
import io.ephemera.activity.gitlab.GitLabClient;
import io.ephemera.activity.gitlab.GitLabJobTagsLookup;
import io.ephemera.activity.gitlab.GitLabProperties;
import io.ephemera.activity.gitlab.GitLabRunnerActivitiesImpl;
import io.ephemera.activity.gitlab.JobState;
import io.ephemera.activity.gitlab.RegisteredRunner;
import io.ephemera.activity.gitlab.RunnerTokenStore;
import io.temporal.failure.ApplicationFailure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The real GitLab adapter talking HTTP to the sandbox GitLab, as in the local profile. */
class SandboxGitLabTest {
  SandboxGitLab sandbox;
  MapTokenStore tokens;
  GitLabClient client;
  GitLabRunnerActivitiesImpl activities;

  @BeforeEach
  void setUp() {
    sandbox = SandboxGitLab.start();
    tokens = new MapTokenStore();
    client = new GitLabClient(GitLabProperties.of(sandbox.url(), "sandbox-api-token"));
    activities = new GitLabRunnerActivitiesImpl(client, tokens);
  }

  @AfterEach
  void tearDown() {
    sandbox.close();
  }

  @Test
  void aCreatedRunnerIsListedInTheInventoryAndItsTokenStaysInTheStore() {
    RegisteredRunner runner =
        activities.createRunner(
            new CreateRunnerRequest(42, "runner/42/job-7", List.of("docker", "large"), 3600));

    assertThat(sandbox.inventory())
        .containsExactly(
            new SandboxGitLab.RunnerEntry(
                runner.runnerId(),
                42,
                "ephemera runner/42/job-7",
                List.of("docker", "large"),
                true));
    assertThat(runner.toString()).doesNotContain("ephemera-sandbox-secret");
    assertThat(tokens.find("runner/42/job-7").orElseThrow().token())
        .startsWith(SandboxGitLab.TOKEN_PREFIX);
  }

  @Test
  void runnerIdsIncreaseAndARetriedCreateMakesNoSecondRunner() {
    RegisteredRunner first =
        activities.createRunner(new CreateRunnerRequest(42, "runner/42/job-7", List.of("a"), 3600));
    RegisteredRunner again =
        activities.createRunner(new CreateRunnerRequest(42, "runner/42/job-7", List.of("a"), 3600));
    RegisteredRunner other =
        activities.createRunner(new CreateRunnerRequest(42, "runner/42/job-8", List.of("a"), 3600));

    assertThat(again).isEqualTo(first);
    assertThat(other.runnerId()).isGreaterThan(first.runnerId());
    assertThat(sandbox.inventory()).hasSize(2);
  }

  @Test
  void aDeletedRunnerIsGoneAndDeletingAgainSucceeds() {
    activities.createRunner(new CreateRunnerRequest(42, "runner/42/job-7", List.of("a"), 3600));
    activities.createRunner(new CreateRunnerRequest(42, "runner/42/job-8", List.of("a"), 3600));

    activities.deleteRunner(new DeleteRunnerRequest(42, "runner/42/job-7"));
    activities.deleteRunner(new DeleteRunnerRequest(42, "runner/42/job-7"));

    assertThat(sandbox.inventory())
        .extracting(SandboxGitLab.RunnerEntry::description)
        .containsExactly("ephemera runner/42/job-8");
    assertThat(tokens.find("runner/42/job-7")).isEmpty();
  }

  @Test
  void jobsChangeOnlyWhenTheSandboxIsTold() {
    sandbox.seedJob(42, 7, "build", "pending", List.of("docker"));
    RegisteredRunner runner =
        activities.createRunner(
            new CreateRunnerRequest(42, "runner/42/job-7", List.of("docker"), 3600));

    assertThat(activities.jobState(42, 7)).isEqualTo(new JobState(7, "pending", null));
    assertThat(activities.runnerJobs(runner.runnerId())).isEmpty();

    sandbox.setJobStatus(42, 7, "running", runner.runnerId());
    assertThat(activities.jobState(42, 7)).isEqualTo(new JobState(7, "running", runner.runnerId()));

    sandbox.setJobStatus(42, 7, "success");
    assertThat(activities.runnerJobs(runner.runnerId()))
        .containsExactly(new JobState(7, "success", runner.runnerId()));
  }

  @Test
  void runnerJobsAreNewestFirst() {
    RegisteredRunner runner =
        activities.createRunner(new CreateRunnerRequest(42, "runner/42/job-7", List.of("a"), 3600));
    sandbox.seedJob(42, 7, "build", "pending", List.of("a"));
    sandbox.seedJob(42, 9, "test", "pending", List.of("a"));
    sandbox.setJobStatus(42, 7, "failed", runner.runnerId());
    sandbox.setJobStatus(42, 9, "running", runner.runnerId());

    assertThat(activities.runnerJobs(runner.runnerId()))
        .extracting(JobState::jobId)
        .containsExactly(9L, 7L);
  }

  @Test
  void anUnknownJobIsNotFoundAsOnGitLab() {
    Throwable thrown = catchThrowable(() -> activities.jobState(42, 404));

    assertThat(thrown).isInstanceOf(ApplicationFailure.class);
    assertThat(((ApplicationFailure) thrown).getType()).isEqualTo("GitLabNotFound");
  }

  @Test
  void theTagLookupReadsTheSeededTags() {
    sandbox.seedJob(42, 7, "build", "pending", List.of("docker", "large"));
    GitLabJobTagsLookup lookup =
        new GitLabJobTagsLookup(client, GitLabProperties.of(sandbox.url(), "t"));

    assertThat(lookup.tags(42, 7)).containsExactly("docker", "large");
    assertThat(lookup.tags(42, 8)).isEmpty();
  }

  @Test
  void aRequestWithoutTokenIsUnauthorized() throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(sandbox.url() + "/api/v4/projects/42/runners"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(401);
    assertThat(response.body()).contains("401 Unauthorized");
  }

  @Test
  void anInvalidStatusOrAnUnknownJobIsAProgrammingError() {
    assertThatThrownBy(() -> sandbox.seedJob(1, 1, "x", "done", List.of()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> sandbox.setJobStatus(1, 2, "running"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("seed it first");
  }

  /** The sandbox is tested here, not the token store. */
  static final class MapTokenStore implements RunnerTokenStore {
    final Map<String, StoredToken> tokens = new ConcurrentHashMap<>();

    @Override
    public String put(String workflowId, long runnerId, String token) {
      tokens.put(workflowId, new StoredToken("map:" + workflowId, workflowId, runnerId, token));
      return "map:" + workflowId;
    }

    @Override
    public Optional<StoredToken> get(String ref) {
      return tokens.values().stream().filter(t -> t.ref().equals(ref)).findFirst();
    }

    @Override
    public Optional<StoredToken> find(String workflowId) {
      return Optional.ofNullable(tokens.get(workflowId));
    }

    @Override
    public void delete(String workflowId) {
      tokens.remove(workflowId);
    }
  }

  @Test
  void aMalformedJsonBodyIsA400AsOnGitLab() throws Exception {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(sandbox.url() + "/api/v4/projects/42/environments"))
                    .header("PRIVATE-TOKEN", "sandbox")
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{not json"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).contains("body is not valid JSON");
  }
}
