package io.ephemera.activity.gitlab;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * The GitLab listings the reconciler pages through: open merge requests, pending jobs, the runners
 * the token can see. One page per call, so a caller never holds more than a page. Failures are
 * {@link GitLabCallException}s (status 0 when GitLab did not answer); nothing here retries.
 */
public final class GitLabListings {
  private final GitLabClient client;

  public GitLabListings(GitLabClient client) {
    this.client = client;
  }

  /** One page of a listing; {@code nextPage} is 0 after the last. */
  public record Page<T>(List<T> items, int nextPage) {}

  /** An open merge request as the reconciler needs it. */
  public record MergeRequest(
      long iid, String sha, String sourceBranch, String title, boolean fromFork) {}

  /** A pending job and its tags. */
  public record Job(long id, String name, List<String> tags) {}

  /** A runner; {@code createdAt} is null when GitLab's answer does not carry it. */
  public record Runner(long id, String description, Instant createdAt) {}

  /** {@code GET /projects/:id/merge_requests?state=opened}, one page. */
  public Page<MergeRequest> openMergeRequests(long projectId, int page, int perPage) {
    GitLabClient.Answer answer =
        client.get(
            "/projects/" + projectId + "/merge_requests",
            query("state", "opened", "page", page, "per_page", perPage));
    List<MergeRequest> items = new ArrayList<>();
    for (JsonNode mr : answer.body()) {
      boolean fork =
          mr.hasNonNull("source_project_id")
              && mr.hasNonNull("target_project_id")
              && mr.get("source_project_id").asLong() != mr.get("target_project_id").asLong();
      items.add(
          new MergeRequest(
              mr.path("iid").asLong(),
              text(mr, "sha"),
              text(mr, "source_branch"),
              text(mr, "title"),
              fork));
    }
    return new Page<>(items, GitLabRunnerActivitiesImpl.nextPage(answer, page, perPage, items));
  }

  /**
   * The state of one merge request ({@code opened}, {@code closed}, {@code merged}, {@code
   * locked}), or empty when GitLab does not know it (404).
   */
  public Optional<String> mergeRequestState(long projectId, long iid) {
    try {
      JsonNode mr =
          client.get("/projects/" + projectId + "/merge_requests/" + iid, Map.of()).body();
      return Optional.ofNullable(text(mr, "state"));
    } catch (GitLabCallException e) {
      if (e.status() == 404) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** {@code GET /projects/:id/jobs?scope[]=pending}, one page. */
  public Page<Job> pendingJobs(long projectId, int page, int perPage) {
    GitLabClient.Answer answer =
        client.get(
            "/projects/" + projectId + "/jobs",
            query("scope[]", "pending", "page", page, "per_page", perPage));
    List<Job> items = new ArrayList<>();
    for (JsonNode job : answer.body()) {
      List<String> tags = new ArrayList<>();
      job.path("tag_list").forEach(t -> tags.add(t.asString()));
      items.add(new Job(job.path("id").asLong(), text(job, "name"), List.copyOf(tags)));
    }
    return new Page<>(items, GitLabRunnerActivitiesImpl.nextPage(answer, page, perPage, items));
  }

  /** {@code GET /runners?type=project_type}: project runners the token's user can see, one page. */
  public Page<Runner> projectRunners(int page, int perPage) {
    GitLabClient.Answer answer =
        client.get("/runners", query("type", "project_type", "page", page, "per_page", perPage));
    List<Runner> items = new ArrayList<>();
    for (JsonNode r : answer.body()) {
      items.add(new Runner(r.path("id").asLong(), text(r, "description"), instant(r)));
    }
    return new Page<>(items, GitLabRunnerActivitiesImpl.nextPage(answer, page, perPage, items));
  }

  /** {@code path_with_namespace} of a project ({@code GET /projects/:id}). */
  public String projectPath(long projectId) {
    JsonNode project = client.get("/projects/" + projectId, Map.of()).body();
    String path = text(project, "path_with_namespace");
    if (path == null || path.isBlank()) {
      throw new GitLabCallException(
          "GET", "/projects/" + projectId, 200, "no path_with_namespace", null, null);
    }
    return path;
  }

  private static Map<String, Object> query(Object... keyValues) {
    Map<String, Object> q = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      q.put((String) keyValues[i], keyValues[i + 1]);
    }
    return q;
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? null : v.asString();
  }

  private static Instant instant(JsonNode node) {
    String v = text(node, "created_at");
    if (v == null) {
      return null;
    }
    try {
      return Instant.parse(v);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
