package io.ephemera.activity.gitlab;

import io.ephemera.common.WorkflowIds;
import io.temporal.failure.ApplicationFailure;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * GitLab side of a single-use runner, over REST v4 ({@link GitLabClient}). Every call is
 * idempotent: a runner is found again by its description (which names the owning workflow), and
 * "already gone" is success. The runner's authentication token goes from GitLab's answer straight
 * into the {@link RunnerTokenStore}; it is never logged, returned or put in a failure.
 */
public class GitLabRunnerActivitiesImpl implements GitLabRunnerActivities {
  private static final Logger log = LoggerFactory.getLogger(GitLabRunnerActivitiesImpl.class);

  /** GitLab's largest page. */
  static final int PER_PAGE = 100;

  /** 10,000 runners in one project is far past any sane setup; stop rather than loop forever. */
  static final int MAX_PAGES = 100;

  /** GitLab refuses a {@code maximum_timeout} below ten minutes (HTTP 400). */
  static final int MIN_MAXIMUM_TIMEOUT_SECONDS = 600;

  /** Newest jobs of a runner to read; a single-use runner runs one, so the first page is plenty. */
  static final int RUNNER_JOBS_PAGE = 20;

  private final GitLabClient gitlab;
  private final RunnerTokenStore tokens;

  public GitLabRunnerActivitiesImpl(GitLabClient gitlab, RunnerTokenStore tokens) {
    this.gitlab = Objects.requireNonNull(gitlab, "gitlab");
    this.tokens = Objects.requireNonNull(tokens, "tokens");
  }

  @Override
  public RegisteredRunner createRunner(CreateRunnerRequest request) {
    long projectId = request.projectId();
    String workflowId = request.workflowId();
    String description = WorkflowIds.runnerDescription(workflowId);

    // A retry after a lost answer or a crash finds what the earlier attempt made.
    List<Long> existing = runnersOf(projectId, description);
    Optional<RunnerTokenStore.StoredToken> stored = tokens.find(workflowId);
    if (stored.isPresent() && existing.contains(stored.get().runnerId())) {
      long runnerId = stored.get().runnerId();
      for (long other : existing) {
        if (other != runnerId) {
          deleteRunnerById(projectId, other, workflowId);
        }
      }
      log.info(
          "GitLab runner {} of {} already exists in project {}; reusing it",
          runnerId,
          workflowId,
          projectId);
      return new RegisteredRunner(runnerId, stored.get().ref());
    }
    // GitLab shows a runner's token only when it is created: a runner whose token was not stored
    // (the attempt died in between) can never be started, so it goes and a new one is made.
    for (long orphan : existing) {
      deleteRunnerById(projectId, orphan, workflowId);
    }

    List<String> tags = request.tags();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("runner_type", "project_type");
    body.put("project_id", projectId);
    body.put("description", description);
    body.put("tag_list", tags);
    // A runner takes only jobs carrying its tags. GitLab rejects a runner with no tags that may not
    // run untagged jobs, so an untagged job's runner is the one case allowed to run untagged jobs.
    body.put("run_untagged", tags.isEmpty());
    // Locked: no maintainer of another project can enable this single-use runner there.
    body.put("locked", true);
    if (request.maximumTimeoutSeconds() > 0) {
      body.put(
          "maximum_timeout",
          Math.max(MIN_MAXIMUM_TIMEOUT_SECONDS, request.maximumTimeoutSeconds()));
    }
    String operation = "creating the runner of " + workflowId + " in project " + projectId;
    GitLabClient.Answer answer;
    try {
      answer = gitlab.postJson("/user/runners", body);
    } catch (GitLabCallException e) {
      if (e.status() == 404) {
        throw ApplicationFailure.newBuilder()
            .setType(GitLabErrors.NOT_FOUND)
            .setMessage(
                operation
                    + " failed: GitLab answered 404 to POST /user/runners. GitLab 15.10 or newer"
                    + " is needed, and project "
                    + projectId
                    + " must exist and be visible to the token.")
            .setNonRetryable(true)
            .setCause(e)
            .build();
      }
      throw GitLabErrors.failure(e, operation, createScope(projectId));
    }
    long runnerId = answer.body().path("id").asLong(0);
    String token = answer.body().path("token").asString(null);
    if (runnerId <= 0 || token == null || token.isBlank()) {
      if (runnerId > 0) {
        deleteQuietly(projectId, runnerId, workflowId);
      }
      throw ApplicationFailure.newBuilder()
          .setType(GitLabErrors.UNAVAILABLE)
          .setMessage(operation + " failed: GitLab's answer held no runner id or token")
          .build();
    }

    String ref;
    try {
      ref = tokens.put(workflowId, runnerId, token);
    } catch (RuntimeException e) {
      // Without its token the runner is useless; remove it now rather than on the next attempt.
      deleteQuietly(projectId, runnerId, workflowId);
      throw e;
    }
    log.info(
        "Created GitLab runner {} for {} in project {} with tags {}; token stored at {}",
        runnerId,
        workflowId,
        projectId,
        tags,
        ref);
    return new RegisteredRunner(runnerId, ref);
  }

  @Override
  public void deleteRunner(DeleteRunnerRequest request) {
    long projectId = request.projectId();
    String workflowId = request.workflowId();
    TreeSet<Long> ids = new TreeSet<>();
    try {
      ids.addAll(runnersOf(projectId, WorkflowIds.runnerDescription(workflowId)));
    } catch (ApplicationFailure f) {
      if (!GitLabErrors.NOT_FOUND.equals(f.getType())) {
        throw f;
      }
      // The project is gone (its runners with it) or invisible; the stored runner id, if any, is
      // still tried below, and answers 404 when it is gone too.
      log.info("Project {} is not visible while deleting the runners of {}", projectId, workflowId);
    }
    tokens.find(workflowId).ifPresent(t -> ids.add(t.runnerId()));
    for (long id : ids) {
      deleteRunnerById(projectId, id, workflowId);
    }
    tokens.delete(workflowId);
  }

  @Override
  public JobState jobState(long projectId, long jobId) {
    JsonNode job;
    try {
      job = gitlab.get("/projects/" + projectId + "/jobs/" + jobId, Map.of()).body();
    } catch (GitLabCallException e) {
      throw GitLabErrors.failure(
          e,
          "reading job " + jobId + " of project " + projectId,
          "the read_api (or api) scope and at least the Reporter role in project " + projectId);
    }
    return toJobState(job, null);
  }

  @Override
  public List<JobState> runnerJobs(long runnerId) {
    JsonNode jobs;
    try {
      Map<String, Object> query = new LinkedHashMap<>();
      query.put("order_by", "id");
      query.put("sort", "desc");
      query.put("per_page", RUNNER_JOBS_PAGE);
      jobs = gitlab.get("/runners/" + runnerId + "/jobs", query).body();
    } catch (GitLabCallException e) {
      throw GitLabErrors.failure(
          e,
          "reading the jobs of runner " + runnerId,
          "the read_api (or api) scope and the Maintainer role in the runner's project");
    }
    List<JobState> states = new ArrayList<>();
    for (JsonNode job : jobs) {
      states.add(toJobState(job, runnerId));
    }
    return List.copyOf(states);
  }

  /** Ids of the project runners whose description is exactly {@code description}, all pages. */
  private List<Long> runnersOf(long projectId, String description) {
    List<Long> ids = new ArrayList<>();
    int page = 1;
    for (int pages = 0; pages < MAX_PAGES && page > 0; pages++) {
      Map<String, Object> query = new LinkedHashMap<>();
      query.put("type", "project_type");
      query.put("per_page", PER_PAGE);
      query.put("page", page);
      GitLabClient.Answer answer;
      try {
        answer = gitlab.get("/projects/" + projectId + "/runners", query);
      } catch (GitLabCallException e) {
        throw GitLabErrors.failure(
            e,
            "listing the runners of project " + projectId,
            "the api scope and the Maintainer role in project " + projectId);
      }
      int count = 0;
      for (JsonNode runner : answer.body()) {
        count++;
        if (description.equals(runner.path("description").asString(null))) {
          ids.add(runner.path("id").asLong());
        }
      }
      page = nextPage(answer, page, count);
    }
    return ids;
  }

  /** The next page from {@code X-Next-Page} (blank on the last), else by whether this was full. */
  static int nextPage(GitLabClient.Answer answer, int page, int count) {
    Optional<String> next = answer.header("X-Next-Page");
    if (next.isPresent()) {
      try {
        return next.get().isBlank() ? 0 : Integer.parseInt(next.get().trim());
      } catch (NumberFormatException e) {
        return 0;
      }
    }
    return count >= PER_PAGE ? page + 1 : 0;
  }

  /** {@link #nextPage(GitLabClient.Answer, int, int)} for a listing of {@code perPage} a page. */
  static int nextPage(GitLabClient.Answer answer, int page, int perPage, List<?> items) {
    if (answer.header("X-Next-Page").isPresent()) {
      return nextPage(answer, page, items.size());
    }
    return items.size() >= perPage ? page + 1 : 0;
  }

  private void deleteRunnerById(long projectId, long runnerId, String workflowId) {
    try {
      gitlab.delete("/runners/" + runnerId);
      log.info("Deleted GitLab runner {} of {}", runnerId, workflowId);
    } catch (GitLabCallException e) {
      if (e.status() == 404) {
        log.info("GitLab runner {} of {} was already gone", runnerId, workflowId);
        return;
      }
      throw GitLabErrors.failure(
          e,
          "deleting runner " + runnerId + " of " + workflowId + " in project " + projectId,
          "the api scope and the Maintainer role in project " + projectId);
    }
  }

  /** Cleanup after a failed creation; the failure being reported matters more than this one. */
  private void deleteQuietly(long projectId, long runnerId, String workflowId) {
    try {
      deleteRunnerById(projectId, runnerId, workflowId);
    } catch (RuntimeException e) {
      log.warn(
          "Could not delete GitLab runner {} of {} after a failed creation; the next attempt or"
              + " the reaper will: {}",
          runnerId,
          workflowId,
          e.getMessage());
    }
  }

  private static String createScope(long projectId) {
    return "the create_runner scope and the Maintainer role in project " + projectId;
  }

  private static JobState toJobState(JsonNode job, Long runnerIdIfAbsent) {
    JsonNode runner = job.path("runner");
    Long runnerId =
        runner.isObject() && runner.path("id").canConvertToLong()
            ? Long.valueOf(runner.path("id").asLong())
            : runnerIdIfAbsent;
    return new JobState(job.path("id").asLong(), job.path("status").asString(null), runnerId);
  }
}
