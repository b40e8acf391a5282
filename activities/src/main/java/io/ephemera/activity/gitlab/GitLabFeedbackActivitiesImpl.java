package io.ephemera.activity.gitlab;

import io.temporal.failure.ApplicationFailure;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * What a review app tells GitLab, over REST v4 ({@link GitLabClient}): the environment
 * (Environments API), its deployments (Deployments API), one merge-request note (Notes API) and the
 * commit status {@value #STATUS_NAME} (Commit status API). Every call is idempotent, so a retry
 * after a lost answer changes nothing twice: the environment is found by name, the note by the
 * hidden {@link #NOTE_MARKER}, an unfinished deployment of the same SHA is reused, and "already in
 * that state" is success. Errors are typed by {@link GitLabErrors}. Note bodies are never logged.
 */
public class GitLabFeedbackActivitiesImpl implements GitLabFeedbackActivities {
  private static final Logger log = LoggerFactory.getLogger(GitLabFeedbackActivitiesImpl.class);

  /**
   * The hidden marker every note Ephemera writes carries, and by which it finds its note again. An
   * HTML comment: GitLab's Markdown renders nothing for it. Never change it: notes written before
   * would no longer be found, and a second note would appear on every open merge request.
   */
  public static final String NOTE_MARKER = "<!-- ephemera:review-app -->";

  /** The name of the commit status, as the merge request's pipeline widget shows it. */
  public static final String STATUS_NAME = "ephemera/review-app";

  /** The tier of the environments Ephemera creates. */
  static final String TIER = "development";

  /** GitLab's largest page. */
  static final int PER_PAGE = 100;

  /**
   * Notes read, newest first, while looking for ours: 2,000. Ephemera edits its note on every
   * deploy, so ordered by {@code updated_at} it is near the top unless a person buried it under
   * that many newer comments, in which case a fresh note is the better answer anyway.
   */
  static final int MAX_NOTE_PAGES = 20;

  /**
   * GitLab's answer (HTTP 400) when a commit status is set to the pending or running state it is
   * already in: {@code StateMachines::InvalidTransition}'s message, e.g. {@code Cannot transition
   * status via :run from :running (Reason(s): ...)}. Only pending and running statuses are updated
   * in place; a finished one is replaced by a new status, so no other state ever answers this.
   */
  private static final Pattern NO_TRANSITION =
      Pattern.compile("^Cannot transition status via :(\\w+) from :(\\w+)\\b");

  /** The state-machine event GitLab fires for each commit status state that can be repeated. */
  private static final Map<String, String> EVENT_OF_STATE =
      Map.of("pending", "enqueue", "running", "run");

  private final GitLabClient gitlab;

  public GitLabFeedbackActivitiesImpl(GitLabClient gitlab) {
    this.gitlab = Objects.requireNonNull(gitlab, "gitlab");
  }

  @Override
  public long upsertEnvironment(EnvironmentRequest request) {
    long projectId = request.projectId();
    String name = request.name();
    String operation = "creating or updating environment " + name + " in project " + projectId;
    Optional<JsonNode> existing = findEnvironment(projectId, name);
    if (existing.isPresent()) {
      return updateEnvironment(projectId, existing.get(), request, operation);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("name", name);
    if (request.externalUrl() != null) {
      body.put("external_url", request.externalUrl());
    }
    body.put("tier", TIER);
    try {
      long id = gitlab.postJson(environments(projectId), body).body().path("id").asLong(0);
      log.info("Created GitLab environment {} ({}) in project {}", name, id, projectId);
      return requireId(id, operation);
    } catch (GitLabCallException e) {
      if (e.status() == 400 || e.status() == 409) {
        // "name has already been taken": another attempt created it between our read and write.
        Optional<JsonNode> raced = findEnvironment(projectId, name);
        if (raced.isPresent()) {
          return updateEnvironment(projectId, raced.get(), request, operation);
        }
      }
      throw GitLabErrors.failure(e, operation, scope(projectId));
    }
  }

  @Override
  public long recordDeployment(DeploymentRequest request) {
    long projectId = request.projectId();
    String operation =
        "recording the deployment of "
            + request.sha()
            + " to "
            + request.environment()
            + " in project "
            + projectId;
    if (request.deploymentId() != null) {
      updateDeployment(projectId, request.deploymentId(), request.status(), operation);
      return request.deploymentId();
    }
    // A retry after a lost answer: the newest deployment of the environment is the one the earlier
    // attempt created when it is of the same SHA and ref and still unfinished.
    Optional<JsonNode> unfinished = newestUnfinishedDeployment(request, operation);
    if (unfinished.isPresent()) {
      long id = unfinished.get().path("id").asLong();
      if (!request.status().equals(unfinished.get().path("status").asString(null))) {
        updateDeployment(projectId, id, request.status(), operation);
      }
      log.info("GitLab deployment {} of {} already exists; reusing it", id, request.sha());
      return id;
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("environment", request.environment());
    body.put("sha", request.sha());
    body.put("ref", request.ref());
    body.put("tag", false);
    body.put("status", request.status());
    try {
      long id =
          gitlab
              .postJson("/projects/" + projectId + "/deployments", body)
              .body()
              .path("id")
              .asLong(0);
      log.info(
          "Created GitLab deployment {} of {} to {} in project {} ({})",
          id,
          request.sha(),
          request.environment(),
          projectId,
          request.status());
      return requireId(id, operation);
    } catch (GitLabCallException e) {
      throw GitLabErrors.failure(e, operation, scope(projectId));
    }
  }

  @Override
  public long upsertNote(NoteRequest request) {
    long projectId = request.projectId();
    long iid = request.mrIid();
    String operation =
        "writing the review app note on merge request !" + iid + " of project " + projectId;
    String body = withMarker(request.body());
    if (request.noteId() != null) {
      try {
        updateNote(projectId, iid, request.noteId(), body);
        return request.noteId();
      } catch (GitLabCallException e) {
        if (e.status() != 404) {
          throw GitLabErrors.failure(e, operation, scope(projectId));
        }
        // A person deleted the note: find another of ours, or post a new one.
        log.info(
            "Note {} on merge request !{} of project {} is gone; looking for another",
            request.noteId(),
            iid,
            projectId);
      }
    }
    try {
      Optional<Long> found = findNote(projectId, iid);
      if (found.isPresent()) {
        updateNote(projectId, iid, found.get(), body);
        return found.get();
      }
      long id =
          gitlab.postJson(notes(projectId, iid), Map.of("body", body)).body().path("id").asLong(0);
      log.info("Posted review app note {} on merge request !{} of project {}", id, iid, projectId);
      return requireId(id, operation);
    } catch (GitLabCallException e) {
      throw GitLabErrors.failure(e, operation, scope(projectId));
    }
  }

  @Override
  public void setCommitStatus(CommitStatusRequest request) {
    long projectId = request.projectId();
    String operation =
        "setting commit status "
            + STATUS_NAME
            + " of "
            + request.sha()
            + " to "
            + request.state()
            + " in project "
            + projectId;
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("state", request.state());
    if (request.ref() != null) {
      body.put("ref", request.ref());
    }
    body.put("name", STATUS_NAME);
    if (request.targetUrl() != null) {
      body.put("target_url", request.targetUrl());
    }
    if (request.description() != null) {
      body.put("description", request.description());
    }
    try {
      gitlab.postJson("/projects/" + projectId + "/statuses/" + request.sha(), body);
      log.info(
          "Commit status {} of {} in project {} is {}",
          STATUS_NAME,
          request.sha(),
          projectId,
          request.state());
    } catch (GitLabCallException e) {
      if (alreadyInState(e, request.state())) {
        log.info(
            "Commit status {} of {} in project {} was already {}",
            STATUS_NAME,
            request.sha(),
            projectId,
            request.state());
        return;
      }
      throw GitLabErrors.failure(e, operation, scope(projectId));
    }
  }

  @Override
  public void stopEnvironment(EnvironmentRequest request) {
    long projectId = request.projectId();
    String name = request.name();
    String operation = "stopping environment " + name + " in project " + projectId;
    Optional<JsonNode> env = findEnvironment(projectId, name);
    if (env.isEmpty()) {
      log.info(
          "GitLab environment {} of project {} does not exist; nothing to stop", name, projectId);
      return;
    }
    String state = env.get().path("state").asString("");
    long id = env.get().path("id").asLong();
    if (state.equals("stopped") || state.equals("stopping")) {
      log.info("GitLab environment {} of project {} is already {}", name, projectId, state);
      return;
    }
    try {
      gitlab.postJson(environments(projectId) + "/" + id + "/stop", Map.of());
      log.info("Stopped GitLab environment {} ({}) of project {}", name, id, projectId);
    } catch (GitLabCallException e) {
      if (e.status() == 404) {
        log.info("GitLab environment {} of project {} was already gone", name, projectId);
        return;
      }
      throw GitLabErrors.failure(e, operation, scope(projectId));
    }
  }

  /** The environment named exactly {@code name}, from the list filtered by name. */
  private Optional<JsonNode> findEnvironment(long projectId, String name) {
    JsonNode list;
    try {
      list = gitlab.get(environments(projectId), Map.of("name", name)).body();
    } catch (GitLabCallException e) {
      throw GitLabErrors.failure(
          e, "reading environment " + name + " of project " + projectId, scope(projectId));
    }
    for (JsonNode env : list) {
      if (name.equals(env.path("name").asString(null))) {
        return Optional.of(env);
      }
    }
    return Optional.empty();
  }

  private long updateEnvironment(
      long projectId, JsonNode existing, EnvironmentRequest request, String operation) {
    long id = existing.path("id").asLong();
    String url = request.externalUrl();
    if (url == null || url.equals(existing.path("external_url").asString(null))) {
      return id;
    }
    try {
      // A stopped environment is updated too: the next deployment starts it again.
      gitlab.putJson(environments(projectId) + "/" + id, Map.of("external_url", url));
      log.info(
          "Updated the URL of GitLab environment {} ({}) in project {}",
          request.name(),
          id,
          projectId);
      return id;
    } catch (GitLabCallException e) {
      throw GitLabErrors.failure(e, operation, scope(projectId));
    }
  }

  private Optional<JsonNode> newestUnfinishedDeployment(
      DeploymentRequest request, String operation) {
    Map<String, Object> query = new LinkedHashMap<>();
    query.put("environment", request.environment());
    query.put("order_by", "id");
    query.put("sort", "desc");
    query.put("per_page", 1);
    JsonNode list;
    try {
      list = gitlab.get("/projects/" + request.projectId() + "/deployments", query).body();
    } catch (GitLabCallException e) {
      throw GitLabErrors.failure(e, operation, scope(request.projectId()));
    }
    for (JsonNode d : list) {
      String status = d.path("status").asString("");
      if (request.sha().equals(d.path("sha").asString(null))
          && Objects.equals(request.ref(), d.path("ref").asString(null))
          && (status.equals("created") || status.equals("running"))) {
        return Optional.of(d);
      }
      break;
    }
    return Optional.empty();
  }

  private void updateDeployment(long projectId, long id, String status, String operation) {
    String path = "/projects/" + projectId + "/deployments/" + id;
    try {
      gitlab.putJson(path, Map.of("status", status));
      log.info("GitLab deployment {} of project {} is {}", id, projectId, status);
    } catch (GitLabCallException e) {
      if (e.status() == 400 && currentStatus(path).filter(status::equals).isPresent()) {
        // GitLab answers 400 to a transition into the state the deployment is already in (a retry
        // after a lost answer): that is what we asked for.
        log.info("GitLab deployment {} of project {} was already {}", id, projectId, status);
        return;
      }
      throw GitLabErrors.failure(e, operation, scope(projectId));
    }
  }

  private Optional<String> currentStatus(String path) {
    try {
      return Optional.ofNullable(gitlab.get(path, Map.of()).body().path("status").asString(null));
    } catch (GitLabCallException e) {
      return Optional.empty();
    }
  }

  /** Our note on the merge request: the most recently updated one carrying the marker. */
  private Optional<Long> findNote(long projectId, long iid) {
    int page = 1;
    for (int pages = 0; pages < MAX_NOTE_PAGES && page > 0; pages++) {
      Map<String, Object> query = new LinkedHashMap<>();
      query.put("sort", "desc");
      query.put("order_by", "updated_at");
      query.put("per_page", PER_PAGE);
      query.put("page", page);
      GitLabClient.Answer answer = gitlab.get(notes(projectId, iid), query);
      int count = 0;
      for (JsonNode note : answer.body()) {
        count++;
        if (!note.path("system").asBoolean(false)
            && note.path("body").asString("").contains(NOTE_MARKER)) {
          return Optional.of(note.path("id").asLong());
        }
      }
      page = GitLabRunnerActivitiesImpl.nextPage(answer, page, count);
    }
    return Optional.empty();
  }

  private void updateNote(long projectId, long iid, long noteId, String body) {
    gitlab.putJson(notes(projectId, iid) + "/" + noteId, Map.of("body", body));
    log.info(
        "Updated review app note {} on merge request !{} of project {}", noteId, iid, projectId);
  }

  /** The body as written: the caller's, with the marker appended when it lacks it. */
  static String withMarker(String body) {
    String b = body == null ? "" : body;
    if (b.contains(NOTE_MARKER)) {
      return b;
    }
    return b.isEmpty() || b.endsWith("\n") ? b + NOTE_MARKER : b + "\n\n" + NOTE_MARKER;
  }

  /** Whether a failed status update says the status is already {@code state}. */
  static boolean alreadyInState(GitLabCallException e, String state) {
    if (e.status() != 400 || e.serverMessage() == null) {
      return false;
    }
    Matcher m = NO_TRANSITION.matcher(e.serverMessage());
    return m.find() && m.group(2).equals(state) && m.group(1).equals(EVENT_OF_STATE.get(state));
  }

  private static long requireId(long id, String operation) {
    if (id <= 0) {
      throw ApplicationFailure.newBuilder()
          .setType(GitLabErrors.UNAVAILABLE)
          .setMessage(operation + " failed: GitLab's answer held no id")
          .build();
    }
    return id;
  }

  private static String environments(long projectId) {
    return "/projects/" + projectId + "/environments";
  }

  private static String notes(long projectId, long iid) {
    return "/projects/" + projectId + "/merge_requests/" + iid + "/notes";
  }

  private static String scope(long projectId) {
    return "the api scope and at least the Developer role in project " + projectId;
  }
}
