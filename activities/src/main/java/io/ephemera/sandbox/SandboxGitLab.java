package io.ephemera.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.HttpUrl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * An in-process stand-in for the GitLab REST v4 endpoints Ephemera's runner adapter calls, for the
 * {@code local} profile only: MockWebServer on loopback (random port) with a dispatcher holding
 * state, so the real {@code GitLabRunnerActivitiesImpl} talks real HTTP to it exactly as to GitLab,
 * and gets GitLab's documented JSON shapes, status codes and pagination headers back.
 *
 * <ul>
 *   <li>{@code POST /api/v4/user/runners} registers a project runner (ids increasing from 1001) and
 *       answers its token, {@code glrt-ephemera-sandbox-secret-<random>}: the marker lets tests
 *       prove that no runner token reaches Temporal.
 *   <li>{@code GET /api/v4/projects/:id/runners} lists them (paginated, {@code type} filter), and
 *       {@code DELETE /api/v4/runners/:id} removes one (404 when unknown).
 *   <li>{@code GET /api/v4/projects/:id/jobs/:job_id} answers jobs the sandbox was told about
 *       ({@link #seedJob}, {@link #setJobStatus}); an unknown job is a 404, as on GitLab.
 *   <li>{@code GET /api/v4/runners/:id/jobs} lists the jobs whose runner is set to that runner.
 *   <li>For the feedback adapter: environments ({@code GET}/{@code POST .../environments}, {@code
 *       GET}/{@code PUT .../environments/:id}, {@code POST .../environments/:id/stop}), deployments
 *       ({@code GET}/{@code POST .../deployments}, {@code GET}/{@code PUT .../deployments/:id}),
 *       merge request notes ({@code GET}/{@code POST .../merge_requests/:iid/notes}, {@code
 *       GET}/{@code PUT .../notes/:note_id}) and {@code POST .../statuses/:sha}, with GitLab's
 *       answers to a repeated state (400), listed by {@link #feedbackInventory()}.
 * </ul>
 *
 * It never pretends a job ran: a job's status and runner change only when a caller says so, just as
 * on GitLab only a real runner moves a job. Any token is accepted; a request without one gets 401.
 * State is in memory and lost on restart. To use a real GitLab, set {@code ephemera.gitlab.url} and
 * {@code ephemera.gitlab.token}.
 */
public final class SandboxGitLab implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SandboxGitLab.class);

  /** Every runner token the sandbox hands out starts with this. */
  public static final String TOKEN_PREFIX = "glrt-ephemera-sandbox-secret-";

  /** MockWebServer logs every request at INFO through java.util.logging; held strongly. */
  private static final java.util.logging.Logger MOCK_WEB_SERVER_LOG =
      java.util.logging.Logger.getLogger(MockWebServer.class.getName());

  /** GitLab's job statuses. */
  private static final Set<String> JOB_STATUSES =
      Set.of(
          "created",
          "waiting_for_resource",
          "preparing",
          "pending",
          "running",
          "success",
          "failed",
          "canceling",
          "canceled",
          "skipped",
          "manual",
          "scheduled");

  private static final Pattern PROJECT_RUNNERS =
      Pattern.compile("/api/v4/projects/([0-9]+)/runners");
  private static final Pattern PROJECT_JOB =
      Pattern.compile("/api/v4/projects/([0-9]+)/jobs/([0-9]+)");
  private static final Pattern RUNNER = Pattern.compile("/api/v4/runners/([0-9]+)");
  private static final Pattern PROJECT = Pattern.compile("/api/v4/projects/([0-9]+)");
  private static final Pattern MERGE_REQUESTS =
      Pattern.compile("/api/v4/projects/([0-9]+)/merge_requests");
  private static final Pattern MERGE_REQUEST =
      Pattern.compile("/api/v4/projects/([0-9]+)/merge_requests/([0-9]+)");
  private static final Pattern PROJECT_JOBS = Pattern.compile("/api/v4/projects/([0-9]+)/jobs");
  private static final Set<String> MR_STATES = Set.of("opened", "closed", "merged", "locked");
  private static final Pattern RUNNER_JOBS = Pattern.compile("/api/v4/runners/([0-9]+)/jobs");

  private static final Pattern ENVIRONMENTS =
      Pattern.compile("/api/v4/projects/([0-9]+)/environments");
  private static final Pattern ENVIRONMENT =
      Pattern.compile("/api/v4/projects/([0-9]+)/environments/([0-9]+)");
  private static final Pattern ENVIRONMENT_STOP =
      Pattern.compile("/api/v4/projects/([0-9]+)/environments/([0-9]+)/stop");
  private static final Pattern DEPLOYMENTS =
      Pattern.compile("/api/v4/projects/([0-9]+)/deployments");
  private static final Pattern DEPLOYMENT =
      Pattern.compile("/api/v4/projects/([0-9]+)/deployments/([0-9]+)");
  private static final Pattern NOTES =
      Pattern.compile("/api/v4/projects/([0-9]+)/merge_requests/([0-9]+)/notes");
  private static final Pattern NOTE =
      Pattern.compile("/api/v4/projects/([0-9]+)/merge_requests/([0-9]+)/notes/([0-9]+)");
  private static final Pattern STATUSES =
      Pattern.compile("/api/v4/projects/([0-9]+)/statuses/([0-9a-fA-F]{7,64})");

  /** Environments Ephemera names after a merge request: {@code review/mr-<iid>}. */
  private static final Pattern REVIEW_ENVIRONMENT = Pattern.compile("review/mr-([0-9]+)");

  private static final Set<String> DEPLOYMENT_STATUSES =
      Set.of("running", "success", "failed", "canceled");
  private static final Set<String> COMMIT_STATES =
      Set.of("pending", "running", "success", "failed", "canceled", "skipped");

  /** The state-machine event GitLab fires for each commit status state, named in its errors. */
  private static final Map<String, String> COMMIT_STATE_EVENTS =
      Map.of(
          "pending", "enqueue",
          "running", "run",
          "success", "success",
          "failed", "drop",
          "canceled", "cancel",
          "skipped", "skip");

  private final MockWebServer server = new MockWebServer();
  private final JsonMapper json = JsonMapper.builder().build();
  private final SecureRandom random = new SecureRandom();
  private final Clock clock;
  private final AtomicBoolean closed = new AtomicBoolean();

  // Guarded by this.
  private final TreeMap<Long, Runner> runners = new TreeMap<>();
  private final Map<JobKey, Job> jobs = new LinkedHashMap<>();
  private final TreeMap<Long, String> projects = new TreeMap<>();
  private final Map<JobKey, MergeRequest> mergeRequests = new LinkedHashMap<>();
  private volatile Instant failingUntil = Instant.MIN;
  private final SandboxFaults faults = new SandboxFaults("GitLab");
  private long nextRunnerId = 1001;
  private final TreeMap<Long, Environment> environments = new TreeMap<>();
  private final TreeMap<Long, Deployment> deployments = new TreeMap<>();
  private final TreeMap<Long, Note> notes = new TreeMap<>();
  private final TreeMap<Long, CommitStatus> statuses = new TreeMap<>();
  private long nextEnvironmentId = 1;
  private long nextDeploymentId = 1;
  private long nextNoteId = 1;
  private long nextStatusId = 1;
  private long noteClock;

  private SandboxGitLab(Clock clock) {
    this.clock = clock;
    MOCK_WEB_SERVER_LOG.setLevel(Level.WARNING);
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            forgetRequests();
            return faults.serve(
                () -> dispatchOrError(request),
                status ->
                    respond(status, Map.of("message", status + " (sandbox fault injection)")));
          }
        });
  }

  private MockResponse dispatchOrError(RecordedRequest request) {
    try {
      return dispatch(request);
    } catch (JacksonException e) {
      // A request body is only ever read by params(): answer as GitLab does.
      return respond(400, Map.of("error", "body is not valid JSON"));
    } catch (RuntimeException e) {
      log.warn("Sandbox GitLab failed on {}: {}", request.getRequestLine(), e.toString());
      return respond(500, Map.of("message", "500 Internal Server Error"));
    }
  }

  /**
   * Probabilistic fault injection for chaos tests (off by default): see {@link SandboxFaults}. A
   * faulted request is answered 5xx, hung up on, or applied and then hung up on.
   */
  public SandboxFaults faults() {
    return faults;
  }

  /** Starts the sandbox on loopback, on a free port. */
  public static SandboxGitLab start() {
    SandboxGitLab gitlab = new SandboxGitLab(Clock.systemUTC());
    try {
      gitlab.server.start(InetAddress.getLoopbackAddress(), 0);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot start the sandbox GitLab", e);
    }
    log.info(
        "GitLab SANDBOX at {}: an in-memory stand-in for the runner, job, environment, deployment,"
            + " note and commit status endpoints of GitLab's REST API, not a GitLab. No job ever"
            + " runs in it; job statuses change only when told."
            + " Everything is lost on restart. For a real GitLab set ephemera.gitlab.url and"
            + " ephemera.gitlab.token.",
        gitlab.url());
    return gitlab;
  }

  /**
   * The base URL to configure as {@code ephemera.gitlab.url}, e.g. {@code http://127.0.0.1:4711}.
   */
  public String url() {
    // The loopback address itself, not "localhost", which may resolve to the other IP family.
    InetAddress loopback = InetAddress.getLoopbackAddress();
    String host = loopback.getHostAddress();
    return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + server.getPort();
  }

  /** Makes a job known (or replaces it), with no runner. */
  public synchronized void seedJob(
      long projectId, long jobId, String name, String status, List<String> tags) {
    checkStatus(status);
    jobs.put(
        new JobKey(projectId, jobId),
        new Job(
            projectId,
            jobId,
            name,
            status,
            tags == null ? List.of() : List.copyOf(tags),
            null,
            clock.instant()));
  }

  /** Changes a known job's status, keeping its runner. */
  public synchronized void setJobStatus(long projectId, long jobId, String status) {
    Job job = job(projectId, jobId);
    setJobStatus(projectId, jobId, status, job.runnerId());
  }

  /**
   * Changes a known job's status and runner, as GitLab does when a runner picks the job up ({@code
   * running} with the runner) or finishes it.
   */
  public synchronized void setJobStatus(long projectId, long jobId, String status, Long runnerId) {
    checkStatus(status);
    Job job = job(projectId, jobId);
    jobs.put(
        job.key(),
        new Job(projectId, jobId, job.name(), status, job.tags(), runnerId, job.createdAt()));
  }

  /**
   * Makes GitLab answer every request with 503 for {@code duration} (zero heals at once), as a
   * GitLab under maintenance or behind a failing proxy would: for trying what Ephemera does then.
   */
  public void failFor(java.time.Duration duration) {
    failingUntil = clock.instant().plus(duration);
    log.warn("Sandbox GitLab answers 503 to everything for {}", duration);
  }

  /** Ids of the projects the sandbox knows (seeded), ascending. */
  public synchronized List<Long> projectIds() {
    return List.copyOf(projects.keySet());
  }

  /** Makes a project known with its path ({@code GET /projects/:id} answers it). */
  public synchronized void seedProject(long projectId, String pathWithNamespace) {
    if (pathWithNamespace == null || pathWithNamespace.isBlank()) {
      throw new IllegalArgumentException("project " + projectId + " needs a path");
    }
    projects.put(projectId, pathWithNamespace);
  }

  /**
   * Makes an open merge request known (or replaces it), in a project seeded before. Nothing is
   * delivered: as with a webhook GitLab failed to send, only the API knows.
   */
  public synchronized void seedMergeRequest(
      long projectId, long iid, String sha, String sourceBranch, String title) {
    if (!projects.containsKey(projectId)) {
      throw new IllegalArgumentException("seed project " + projectId + " first");
    }
    if (sha == null || !sha.matches("[0-9a-f]{40}")) {
      throw new IllegalArgumentException("merge request " + iid + ": sha must be 40 hex digits");
    }
    mergeRequests.put(
        new JobKey(projectId, iid),
        new MergeRequest(projectId, iid, sha, sourceBranch, title, "opened", clock.instant()));
  }

  /** Moves a merge request to {@code opened}, {@code closed}, {@code merged} or {@code locked}. */
  public synchronized void setMergeRequestState(long projectId, long iid, String state) {
    if (!MR_STATES.contains(state)) {
      throw new IllegalArgumentException("not a merge request state: " + state);
    }
    MergeRequest mr = mergeRequests.get(new JobKey(projectId, iid));
    if (mr == null) {
      throw new IllegalArgumentException("no merge request !" + iid + " in project " + projectId);
    }
    mergeRequests.put(
        mr.key(),
        new MergeRequest(
            projectId, iid, mr.sha(), mr.sourceBranch(), mr.title(), state, mr.createdAt()));
  }

  /**
   * Seeds projects, open merge requests and pending jobs from a YAML or JSON file ({@code
   * ephemera.sandbox.gitlab.seed}):
   *
   * <pre>
   * projects:
   *   - id: 4242
   *     path: group/shop
   *     merge-requests: [{iid: 7, sha: "da15...", source-branch: feature, title: Add cart}]
   *     jobs: [{id: 1977, name: test, tags: [docker]}]
   * </pre>
   *
   * A malformed file fails with a message naming what is wrong.
   */
  public void seed(java.nio.file.Path file) {
    JsonNode root;
    try {
      root =
          tools.jackson.dataformat.yaml.YAMLMapper.builder()
              .build()
              .readTree(java.nio.file.Files.readString(file));
    } catch (IOException | JacksonException e) {
      throw new IllegalArgumentException(
          "ephemera.sandbox.gitlab.seed: cannot read " + file + ": " + e.getMessage(), e);
    }
    JsonNode list = root == null ? null : root.get("projects");
    if (list == null || !list.isArray()) {
      throw new IllegalArgumentException(
          "ephemera.sandbox.gitlab.seed: " + file + " has no list 'projects'");
    }
    int mrs = 0;
    int pending = 0;
    for (JsonNode p : list) {
      long id = p.path("id").asLong(0);
      if (id <= 0) {
        throw new IllegalArgumentException(
            "ephemera.sandbox.gitlab.seed: every project needs a positive 'id'");
      }
      seedProject(id, p.path("path").asString(null));
      for (JsonNode mr : p.path("merge-requests")) {
        seedMergeRequest(
            id,
            mr.path("iid").asLong(),
            mr.path("sha").asString(null),
            mr.path("source-branch").asString("main"),
            mr.path("title").asString("Merge request !" + mr.path("iid").asLong()));
        mrs++;
      }
      for (JsonNode job : p.path("jobs")) {
        List<String> tags = new ArrayList<>();
        job.path("tags").forEach(t -> tags.add(t.asString()));
        seedJob(id, job.path("id").asLong(), job.path("name").asString("job"), "pending", tags);
        pending++;
      }
    }
    log.info(
        "Sandbox GitLab seeded from {}: {} projects, {} open merge requests, {} pending jobs",
        file,
        list.size(),
        mrs,
        pending);
  }

  /** Every registered runner, by id. */
  public synchronized List<RunnerEntry> inventory() {
    List<RunnerEntry> entries = new ArrayList<>();
    for (Runner r : runners.values()) {
      entries.add(new RunnerEntry(r.id(), r.projectId(), r.description(), r.tags(), r.active()));
    }
    return List.copyOf(entries);
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      server.close();
    }
  }

  private MockResponse dispatch(RecordedRequest request) {
    if (clock.instant().isBefore(failingUntil)) {
      return respond(503, Map.of("message", "503 Service Unavailable (sandbox fault switch)"));
    }
    if (!authenticated(request)) {
      return respond(401, Map.of("message", "401 Unauthorized"));
    }
    HttpUrl url = request.getUrl();
    String path = url.encodedPath();
    String method = request.getMethod();
    Matcher m;
    if (path.equals("/api/v4/user/runners")) {
      return method.equals("POST") ? createRunner(request) : notAllowed();
    }
    if (path.equals("/api/v4/runners")) {
      return method.equals("GET") ? listAllRunners(url) : notAllowed();
    }
    if ((m = PROJECT.matcher(path)).matches()) {
      return method.equals("GET") ? getProject(Long.parseLong(m.group(1))) : notAllowed();
    }
    if ((m = MERGE_REQUESTS.matcher(path)).matches()) {
      return method.equals("GET")
          ? listMergeRequests(Long.parseLong(m.group(1)), url)
          : notAllowed();
    }
    if ((m = MERGE_REQUEST.matcher(path)).matches()) {
      return method.equals("GET")
          ? getMergeRequest(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)))
          : notAllowed();
    }
    if ((m = PROJECT_JOBS.matcher(path)).matches()) {
      return method.equals("GET") ? listJobs(Long.parseLong(m.group(1)), url) : notAllowed();
    }
    if ((m = PROJECT_RUNNERS.matcher(path)).matches()) {
      return method.equals("GET") ? listRunners(Long.parseLong(m.group(1)), url) : notAllowed();
    }
    if ((m = PROJECT_JOB.matcher(path)).matches()) {
      return method.equals("GET")
          ? getJob(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)))
          : notAllowed();
    }
    if ((m = RUNNER_JOBS.matcher(path)).matches()) {
      return method.equals("GET") ? runnerJobs(Long.parseLong(m.group(1)), url) : notAllowed();
    }
    if ((m = RUNNER.matcher(path)).matches()) {
      return method.equals("DELETE") ? deleteRunner(Long.parseLong(m.group(1))) : notAllowed();
    }
    if ((m = ENVIRONMENT_STOP.matcher(path)).matches()) {
      return method.equals("POST")
          ? stopEnvironment(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)))
          : notAllowed();
    }
    if ((m = ENVIRONMENT.matcher(path)).matches()) {
      long projectId = Long.parseLong(m.group(1));
      long id = Long.parseLong(m.group(2));
      return switch (method) {
        case "GET" -> getEnvironment(projectId, id);
        case "PUT" -> updateEnvironment(projectId, id, request);
        default -> notAllowed();
      };
    }
    if ((m = ENVIRONMENTS.matcher(path)).matches()) {
      long projectId = Long.parseLong(m.group(1));
      return switch (method) {
        case "GET" -> listEnvironments(projectId, url);
        case "POST" -> createEnvironment(projectId, request);
        default -> notAllowed();
      };
    }
    if ((m = DEPLOYMENT.matcher(path)).matches()) {
      long projectId = Long.parseLong(m.group(1));
      long id = Long.parseLong(m.group(2));
      return switch (method) {
        case "GET" -> getDeployment(projectId, id);
        case "PUT" -> updateDeployment(projectId, id, request);
        default -> notAllowed();
      };
    }
    if ((m = DEPLOYMENTS.matcher(path)).matches()) {
      long projectId = Long.parseLong(m.group(1));
      return switch (method) {
        case "GET" -> listDeployments(projectId, url);
        case "POST" -> createDeployment(projectId, request);
        default -> notAllowed();
      };
    }
    if ((m = NOTE.matcher(path)).matches()) {
      long projectId = Long.parseLong(m.group(1));
      long iid = Long.parseLong(m.group(2));
      long id = Long.parseLong(m.group(3));
      return switch (method) {
        case "GET" -> getNote(projectId, iid, id);
        case "PUT" -> updateNote(projectId, iid, id, request);
        default -> notAllowed();
      };
    }
    if ((m = NOTES.matcher(path)).matches()) {
      long projectId = Long.parseLong(m.group(1));
      long iid = Long.parseLong(m.group(2));
      return switch (method) {
        case "GET" -> listNotes(projectId, iid, url);
        case "POST" -> createNote(projectId, iid, request);
        default -> notAllowed();
      };
    }
    if ((m = STATUSES.matcher(path)).matches()) {
      return method.equals("POST")
          ? setStatus(Long.parseLong(m.group(1)), m.group(2), request)
          : notAllowed();
    }
    return respond(404, Map.of("error", "404 Not Found"));
  }

  private MockResponse createRunner(RecordedRequest request) {
    Map<String, Object> params = params(request);
    if (!"project_type".equals(params.get("runner_type"))) {
      return respond(400, Map.of("error", "runner_type does not have a valid value"));
    }
    long projectId;
    try {
      projectId = Long.parseLong(String.valueOf(params.get("project_id")));
    } catch (NumberFormatException e) {
      return respond(400, Map.of("error", "project_id is missing"));
    }
    List<String> tags = tags(params.get("tag_list"));
    boolean runUntagged =
        !"false".equals(String.valueOf(params.getOrDefault("run_untagged", "true")));
    if (tags.isEmpty() && !runUntagged) {
      // GitLab's own validation, word for word in shape.
      return respond(
          400,
          Map.of(
              "message",
              Map.of(
                  "tags_list",
                  List.of("can not be empty when runner is not allowed to pick untagged jobs"))));
    }
    Object timeout = params.get("maximum_timeout");
    if (timeout != null && !String.valueOf(timeout).matches("[0-9]{1,9}")) {
      return respond(400, Map.of("error", "maximum_timeout is invalid"));
    }
    if (timeout != null && Integer.parseInt(String.valueOf(timeout)) < 600) {
      return respond(
          400,
          Map.of("message", Map.of("maximum_timeout", List.of("needs to be at least 10 minutes"))));
    }
    String description =
        params.get("description") == null ? null : String.valueOf(params.get("description"));
    long id;
    synchronized (this) {
      id = nextRunnerId++;
      runners.put(
          id, new Runner(id, projectId, description, tags, runUntagged, true, clock.instant()));
    }
    String token = TOKEN_PREFIX + HexFormat.of().formatHex(randomBytes(12));
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("id", id);
    body.put("token", token);
    body.put("token_expires_at", null);
    log.info("Sandbox GitLab registered runner {} in project {} ({})", id, projectId, description);
    return respond(201, body);
  }

  private synchronized MockResponse getProject(long projectId) {
    String path = projects.get(projectId);
    if (path == null) {
      return respond(404, Map.of("message", "404 Project Not Found"));
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", projectId);
    m.put("path_with_namespace", path);
    m.put("name", path.substring(path.lastIndexOf('/') + 1));
    return respond(200, m);
  }

  private MockResponse listMergeRequests(long projectId, HttpUrl url) {
    String state = url.queryParameter("state");
    if (state != null && !state.equals("all") && !MR_STATES.contains(state)) {
      return respond(400, Map.of("error", "state does not have a valid value"));
    }
    List<Map<String, Object>> all = new ArrayList<>();
    synchronized (this) {
      if (!projects.containsKey(projectId)) {
        return respond(404, Map.of("message", "404 Project Not Found"));
      }
      for (MergeRequest mr : mergeRequests.values()) {
        if (mr.projectId() == projectId
            && (state == null || state.equals("all") || state.equals(mr.state()))) {
          all.add(mergeRequestJson(mr));
        }
      }
    }
    return page(all, url);
  }

  private synchronized MockResponse getMergeRequest(long projectId, long iid) {
    MergeRequest mr = mergeRequests.get(new JobKey(projectId, iid));
    return mr == null
        ? respond(404, Map.of("message", "404 Not found"))
        : respond(200, mergeRequestJson(mr));
  }

  private MockResponse listJobs(long projectId, HttpUrl url) {
    List<String> scopes = new ArrayList<>(url.queryParameterValues("scope[]"));
    scopes.addAll(url.queryParameterValues("scope"));
    scopes.removeIf(java.util.Objects::isNull);
    for (String scope : scopes) {
      if (!JOB_STATUSES.contains(scope)) {
        return respond(400, Map.of("error", "scope does not have a valid value"));
      }
    }
    List<Map<String, Object>> all = new ArrayList<>();
    synchronized (this) {
      List<Job> matching = new ArrayList<>();
      for (Job j : jobs.values()) {
        if (j.projectId() == projectId && (scopes.isEmpty() || scopes.contains(j.status()))) {
          matching.add(j);
        }
      }
      matching.sort(Comparator.comparingLong(Job::jobId).reversed()); // newest first, as GitLab
      for (Job j : matching) {
        all.add(jobJson(j));
      }
    }
    return page(all, url);
  }

  /** {@code GET /runners}: the runners the token's user can see (here: all), by type. */
  private MockResponse listAllRunners(HttpUrl url) {
    String type = url.queryParameter("type");
    List<Map<String, Object>> all = new ArrayList<>();
    synchronized (this) {
      for (Runner r : runners.values()) {
        if (type == null || type.equals("project_type")) {
          all.add(runnerJson(r));
        }
      }
    }
    return page(all, url);
  }

  private Map<String, Object> mergeRequestJson(MergeRequest mr) {
    String path = projects.get(mr.projectId());
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", mr.projectId() * 100_000 + mr.iid());
    m.put("iid", mr.iid());
    m.put("project_id", mr.projectId());
    m.put("title", mr.title());
    m.put("state", mr.state());
    m.put("source_branch", mr.sourceBranch());
    m.put("target_branch", "main");
    m.put("source_project_id", mr.projectId());
    m.put("target_project_id", mr.projectId());
    m.put("sha", mr.sha());
    m.put("created_at", mr.createdAt().toString());
    m.put("references", Map.of("full", path + "!" + mr.iid()));
    m.put("web_url", url() + "/" + path + "/-/merge_requests/" + mr.iid());
    return m;
  }

  private MockResponse listRunners(long projectId, HttpUrl url) {
    String type = url.queryParameter("type");
    int perPage = clamp(intParam(url, "per_page", 20), 1, 100);
    int page = Math.max(1, intParam(url, "page", 1));
    List<Map<String, Object>> all = new ArrayList<>();
    synchronized (this) {
      for (Runner r : runners.values()) {
        if (r.projectId() == projectId && (type == null || type.equals("project_type"))) {
          all.add(runnerJson(r));
        }
      }
    }
    int from = Math.min(all.size(), (page - 1) * perPage);
    int to = Math.min(all.size(), from + perPage);
    int totalPages = Math.max(1, (all.size() + perPage - 1) / perPage);
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("X-Page", Integer.toString(page));
    headers.put("X-Per-Page", Integer.toString(perPage));
    headers.put("X-Total", Integer.toString(all.size()));
    headers.put("X-Total-Pages", Integer.toString(totalPages));
    headers.put("X-Next-Page", page < totalPages ? Integer.toString(page + 1) : "");
    headers.put("X-Prev-Page", page > 1 ? Integer.toString(page - 1) : "");
    return respond(200, all.subList(from, to), headers);
  }

  private synchronized MockResponse deleteRunner(long id) {
    Runner removed = runners.remove(id);
    if (removed == null) {
      return respond(404, Map.of("message", "404 Runner Not Found"));
    }
    log.info("Sandbox GitLab deleted runner {} ({})", id, removed.description());
    return new MockResponse.Builder().code(204).build();
  }

  private synchronized MockResponse getJob(long projectId, long jobId) {
    Job job = jobs.get(new JobKey(projectId, jobId));
    if (job == null) {
      return respond(404, Map.of("message", "404 Not found"));
    }
    return respond(200, jobJson(job));
  }

  private synchronized MockResponse runnerJobs(long runnerId, HttpUrl url) {
    if (!runners.containsKey(runnerId)
        && jobs.values().stream().noneMatch(j -> Objects.equals(j.runnerId(), runnerId))) {
      return respond(404, Map.of("message", "404 Runner Not Found"));
    }
    String status = url.queryParameter("status");
    boolean ascending = "asc".equals(url.queryParameter("sort"));
    int perPage = clamp(intParam(url, "per_page", 20), 1, 100);
    List<Job> taken = new ArrayList<>();
    for (Job j : jobs.values()) {
      if (Objects.equals(j.runnerId(), runnerId) && (status == null || status.equals(j.status()))) {
        taken.add(j);
      }
    }
    Comparator<Job> byId = Comparator.comparingLong(Job::jobId);
    taken.sort(ascending ? byId : byId.reversed());
    List<Map<String, Object>> body = new ArrayList<>();
    for (Job j : taken.subList(0, Math.min(perPage, taken.size()))) {
      Map<String, Object> item = jobJson(j);
      item.put("project", Map.of("id", j.projectId()));
      body.add(item);
    }
    return respond(200, body);
  }

  // Environments, deployments, notes and commit statuses: what the feedback adapter writes.

  private MockResponse listEnvironments(long projectId, HttpUrl url) {
    String name = url.queryParameter("name");
    List<Map<String, Object>> all = new ArrayList<>();
    synchronized (this) {
      for (Environment e : environments.values()) {
        if (e.projectId() == projectId && (name == null || name.equals(e.name()))) {
          all.add(environmentJson(e));
        }
      }
    }
    return page(all, url);
  }

  private synchronized MockResponse getEnvironment(long projectId, long id) {
    Environment e = environments.get(id);
    if (e == null || e.projectId() != projectId) {
      return respond(404, Map.of("message", "404 Environment Not Found"));
    }
    return respond(200, environmentJson(e));
  }

  private MockResponse createEnvironment(long projectId, RecordedRequest request) {
    Map<String, Object> params = params(request);
    String name = string(params.get("name"));
    if (name == null || name.isBlank()) {
      return respond(400, Map.of("error", "name is missing"));
    }
    synchronized (this) {
      if (findEnvironment(projectId, name) != null) {
        return respond(400, Map.of("message", Map.of("name", List.of("has already been taken"))));
      }
      String tier = string(params.getOrDefault("tier", "development"));
      Environment e =
          new Environment(
              nextEnvironmentId++,
              projectId,
              name,
              string(params.get("external_url")),
              "available",
              tier);
      environments.put(e.id(), e);
      log.info("Sandbox GitLab created environment {} in project {}", name, projectId);
      return respond(201, environmentJson(e));
    }
  }

  private MockResponse updateEnvironment(long projectId, long id, RecordedRequest request) {
    Map<String, Object> params = params(request);
    synchronized (this) {
      Environment e = environments.get(id);
      if (e == null || e.projectId() != projectId) {
        return respond(404, Map.of("message", "404 Environment Not Found"));
      }
      Environment updated =
          new Environment(
              e.id(),
              projectId,
              e.name(),
              params.containsKey("external_url")
                  ? string(params.get("external_url"))
                  : e.externalUrl(),
              e.state(),
              params.containsKey("tier") ? string(params.get("tier")) : e.tier());
      environments.put(id, updated);
      return respond(200, environmentJson(updated));
    }
  }

  private synchronized MockResponse stopEnvironment(long projectId, long id) {
    Environment e = environments.get(id);
    if (e == null || e.projectId() != projectId) {
      return respond(404, Map.of("message", "404 Environment Not Found"));
    }
    // No on_stop action runs in the sandbox, so the environment stops at once, as GitLab does for
    // an environment without one.
    Environment stopped = e.withState("stopped");
    environments.put(id, stopped);
    log.info("Sandbox GitLab stopped environment {} in project {}", e.name(), projectId);
    return respond(200, environmentJson(stopped));
  }

  private MockResponse listDeployments(long projectId, HttpUrl url) {
    String environment = url.queryParameter("environment");
    String status = url.queryParameter("status");
    boolean descending = "desc".equals(url.queryParameter("sort"));
    List<Map<String, Object>> all = new ArrayList<>();
    synchronized (this) {
      List<Deployment> matching = new ArrayList<>();
      for (Deployment d : deployments.values()) {
        if (d.projectId() == projectId
            && (environment == null || environment.equals(environmentName(d)))
            && (status == null || status.equals(d.status()))) {
          matching.add(d);
        }
      }
      if (descending) {
        matching = matching.reversed();
      }
      for (Deployment d : matching) {
        all.add(deploymentJson(d));
      }
    }
    return page(all, url);
  }

  private synchronized MockResponse getDeployment(long projectId, long id) {
    Deployment d = deployments.get(id);
    if (d == null || d.projectId() != projectId) {
      return respond(404, Map.of("message", "404 Deployment Not Found"));
    }
    return respond(200, deploymentJson(d));
  }

  private MockResponse createDeployment(long projectId, RecordedRequest request) {
    Map<String, Object> params = params(request);
    String envName = string(params.get("environment"));
    String sha = string(params.get("sha"));
    String ref = string(params.get("ref"));
    String status = string(params.get("status"));
    for (String required : List.of("environment", "sha", "ref", "tag", "status")) {
      if (params.get(required) == null) {
        return respond(400, Map.of("error", required + " is missing"));
      }
    }
    if (!DEPLOYMENT_STATUSES.contains(status)) {
      return respond(400, Map.of("error", "status does not have a valid value"));
    }
    synchronized (this) {
      // As on GitLab, deploying to an unknown environment creates it, and a deployment makes a
      // stopped environment available again.
      Environment env = findEnvironment(projectId, envName);
      if (env == null) {
        env =
            new Environment(
                nextEnvironmentId++, projectId, envName, null, "available", "development");
      } else {
        env = env.withState("available");
      }
      environments.put(env.id(), env);
      long iid = deployments.values().stream().filter(x -> x.projectId() == projectId).count() + 1;
      Deployment d = new Deployment(nextDeploymentId++, iid, projectId, env.id(), sha, ref, status);
      deployments.put(d.id(), d);
      log.info(
          "Sandbox GitLab recorded deployment {} of {} to {} in project {} ({})",
          d.id(),
          sha,
          envName,
          projectId,
          status);
      return respond(201, deploymentJson(d));
    }
  }

  private MockResponse updateDeployment(long projectId, long id, RecordedRequest request) {
    Map<String, Object> params = params(request);
    String status = string(params.get("status"));
    if (!DEPLOYMENT_STATUSES.contains(status)) {
      return respond(400, Map.of("error", "status does not have a valid value"));
    }
    synchronized (this) {
      Deployment d = deployments.get(id);
      if (d == null || d.projectId() != projectId) {
        return respond(404, Map.of("message", "404 Deployment Not Found"));
      }
      if (d.status().equals(status) || !d.status().equals("running") && !status.equals("running")) {
        // GitLab's state machine has no transition into the current state, nor out of a finished
        // one except to running again; the API then answers a bare 400.
        return respond(400, Map.of("message", "400 Bad request"));
      }
      Deployment updated = d.withStatus(status);
      deployments.put(id, updated);
      return respond(200, deploymentJson(updated));
    }
  }

  private MockResponse listNotes(long projectId, long iid, HttpUrl url) {
    boolean ascending = "asc".equals(url.queryParameter("sort"));
    boolean byUpdate = "updated_at".equals(url.queryParameter("order_by"));
    List<Map<String, Object>> all = new ArrayList<>();
    synchronized (this) {
      List<Note> matching = new ArrayList<>();
      for (Note n : notes.values()) {
        if (n.projectId() == projectId && n.mrIid() == iid) {
          matching.add(n);
        }
      }
      Comparator<Note> order =
          byUpdate
              ? Comparator.comparingLong(Note::updatedSeq)
              : Comparator.comparingLong(Note::id);
      matching.sort(ascending ? order : order.reversed());
      for (Note n : matching) {
        all.add(noteJson(n));
      }
    }
    return page(all, url);
  }

  private synchronized MockResponse getNote(long projectId, long iid, long id) {
    Note n = notes.get(id);
    if (n == null || n.projectId() != projectId || n.mrIid() != iid) {
      return respond(404, Map.of("message", "404 Not found"));
    }
    return respond(200, noteJson(n));
  }

  private MockResponse createNote(long projectId, long iid, RecordedRequest request) {
    Map<String, Object> params = params(request);
    String body = string(params.get("body"));
    if (body == null || body.isBlank()) {
      return respond(400, Map.of("error", "body is missing"));
    }
    synchronized (this) {
      Note n = new Note(nextNoteId++, projectId, iid, body, ++noteClock);
      notes.put(n.id(), n);
      log.info(
          "Sandbox GitLab posted note {} on merge request !{} of project {}",
          n.id(),
          iid,
          projectId);
      return respond(201, noteJson(n));
    }
  }

  private MockResponse updateNote(long projectId, long iid, long id, RecordedRequest request) {
    Map<String, Object> params = params(request);
    String body = string(params.get("body"));
    if (body == null || body.isBlank()) {
      return respond(400, Map.of("error", "body is missing"));
    }
    synchronized (this) {
      Note n = notes.get(id);
      if (n == null || n.projectId() != projectId || n.mrIid() != iid) {
        return respond(404, Map.of("message", "404 Not found"));
      }
      Note updated = new Note(id, projectId, iid, body, ++noteClock);
      notes.put(id, updated);
      return respond(200, noteJson(updated));
    }
  }

  private MockResponse setStatus(long projectId, String sha, RecordedRequest request) {
    Map<String, Object> params = params(request);
    String state = string(params.get("state"));
    if (state == null) {
      return respond(400, Map.of("message", "State is required"));
    }
    if (!COMMIT_STATES.contains(state)) {
      return respond(400, Map.of("message", "invalid state"));
    }
    String name = string(params.getOrDefault("name", params.getOrDefault("context", "default")));
    String ref = string(params.getOrDefault("ref", "main"));
    synchronized (this) {
      // GitLab updates a pending or running status of the same name and ref in place, and adds a
      // new one after a finished one.
      CommitStatus live = null;
      for (CommitStatus s : statuses.values()) {
        if (s.projectId() == projectId
            && s.sha().equals(sha)
            && s.ref().equals(ref)
            && s.name().equals(name)
            && (s.state().equals("pending") || s.state().equals("running"))) {
          live = s;
        }
      }
      if (live != null && live.state().equals(state)) {
        String event = COMMIT_STATE_EVENTS.get(state);
        return respond(
            400,
            Map.of(
                "message",
                "Cannot transition status via :"
                    + event
                    + " from :"
                    + state
                    + " (Reason(s): Status cannot transition via \""
                    + event
                    + "\")"));
      }
      CommitStatus s =
          new CommitStatus(
              live == null ? nextStatusId++ : live.id(),
              projectId,
              sha,
              ref,
              name,
              state,
              params.containsKey("target_url")
                  ? string(params.get("target_url"))
                  : live == null ? null : live.targetUrl(),
              params.containsKey("description")
                  ? string(params.get("description"))
                  : live == null ? null : live.description());
      statuses.put(s.id(), s);
      log.info(
          "Sandbox GitLab set status {} of {} in project {} to {}", name, sha, projectId, state);
      return respond(201, statusJson(s));
    }
  }

  /**
   * Everything the feedback adapter wrote, for {@code /sandbox/inventory} under {@code gitlab}:
   * each entry with its project id and, where it has one, its merge request iid (of environments
   * and deployments derived from the {@code review/mr-<iid>} name), URL, SHA and state.
   */
  public synchronized FeedbackInventory feedbackInventory() {
    List<EnvironmentEntry> envs = new ArrayList<>();
    for (Environment e : environments.values()) {
      envs.add(
          new EnvironmentEntry(
              e.id(), e.projectId(), mrIid(e.name()), e.name(), e.externalUrl(), e.state()));
    }
    List<DeploymentEntry> deps = new ArrayList<>();
    for (Deployment d : deployments.values()) {
      Environment e = environments.get(d.environmentId());
      deps.add(
          new DeploymentEntry(
              d.id(),
              d.projectId(),
              mrIid(e.name()),
              e.name(),
              e.externalUrl(),
              d.sha(),
              d.ref(),
              d.status()));
    }
    List<NoteEntry> ns = new ArrayList<>();
    for (Note n : notes.values()) {
      ns.add(new NoteEntry(n.id(), n.projectId(), n.mrIid(), n.body()));
    }
    List<StatusEntry> ss = new ArrayList<>();
    for (CommitStatus s : statuses.values()) {
      ss.add(
          new StatusEntry(
              s.id(), s.projectId(), s.sha(), s.ref(), s.name(), s.targetUrl(), s.state()));
    }
    return new FeedbackInventory(
        List.copyOf(envs), List.copyOf(deps), List.copyOf(ns), List.copyOf(ss));
  }

  private Environment findEnvironment(long projectId, String name) {
    for (Environment e : environments.values()) {
      if (e.projectId() == projectId && e.name().equals(name)) {
        return e;
      }
    }
    return null;
  }

  private String environmentName(Deployment d) {
    Environment e = environments.get(d.environmentId());
    return e == null ? null : e.name();
  }

  private static Long mrIid(String environmentName) {
    Matcher m = REVIEW_ENVIRONMENT.matcher(environmentName == null ? "" : environmentName);
    return m.matches() ? Long.valueOf(m.group(1)) : null;
  }

  private Map<String, Object> environmentJson(Environment e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", e.id());
    m.put("name", e.name());
    m.put("slug", e.name().replaceAll("[^a-z0-9]+", "-") + "-" + e.id());
    m.put("external_url", e.externalUrl());
    m.put("state", e.state());
    m.put("tier", e.tier());
    m.put("auto_stop_at", null);
    return m;
  }

  private synchronized Map<String, Object> deploymentJson(Deployment d) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", d.id());
    m.put("iid", d.iid());
    m.put("ref", d.ref());
    m.put("sha", d.sha());
    m.put("status", d.status());
    m.put("deployable", null);
    Environment e = environments.get(d.environmentId());
    m.put("environment", e == null ? null : environmentJson(e));
    return m;
  }

  private Map<String, Object> noteJson(Note n) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", n.id());
    m.put("type", null);
    m.put("body", n.body());
    m.put("system", false);
    m.put("noteable_type", "MergeRequest");
    m.put("noteable_iid", n.mrIid());
    m.put("resolvable", false);
    m.put("confidential", false);
    m.put("internal", false);
    return m;
  }

  private Map<String, Object> statusJson(CommitStatus s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.id());
    m.put("sha", s.sha());
    m.put("ref", s.ref());
    m.put("status", s.state());
    m.put("name", s.name());
    m.put("target_url", s.targetUrl());
    m.put("description", s.description());
    m.put("allow_failure", false);
    return m;
  }

  /** One page of {@code all}, with GitLab's pagination headers. */
  private MockResponse page(List<Map<String, Object>> all, HttpUrl url) {
    int perPage = clamp(intParam(url, "per_page", 20), 1, 100);
    int page = Math.max(1, intParam(url, "page", 1));
    int from = Math.min(all.size(), (page - 1) * perPage);
    int to = Math.min(all.size(), from + perPage);
    int totalPages = Math.max(1, (all.size() + perPage - 1) / perPage);
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("X-Page", Integer.toString(page));
    headers.put("X-Per-Page", Integer.toString(perPage));
    headers.put("X-Total", Integer.toString(all.size()));
    headers.put("X-Total-Pages", Integer.toString(totalPages));
    headers.put("X-Next-Page", page < totalPages ? Integer.toString(page + 1) : "");
    headers.put("X-Prev-Page", page > 1 ? Integer.toString(page - 1) : "");
    return respond(200, all.subList(from, to), headers);
  }

  private static String string(Object value) {
    return value == null ? null : String.valueOf(value);
  }

  private Map<String, Object> runnerJson(Runner r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", r.id());
    m.put("description", r.description());
    m.put("ip_address", null);
    m.put("active", r.active());
    m.put("paused", !r.active());
    m.put("is_shared", false);
    m.put("runner_type", "project_type");
    m.put("name", null);
    m.put("online", false);
    m.put("status", "never_contacted");
    m.put("created_at", r.createdAt().toString());
    return m;
  }

  private Map<String, Object> jobJson(Job j) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", j.jobId());
    m.put("name", j.name());
    m.put("status", j.status());
    m.put("stage", "test");
    m.put("ref", "main");
    m.put("tag", false);
    m.put("allow_failure", false);
    m.put("created_at", j.createdAt().toString());
    m.put("tag_list", j.tags());
    Runner r = j.runnerId() == null ? null : runners.get(j.runnerId());
    if (j.runnerId() == null) {
      m.put("runner", null);
    } else if (r != null) {
      m.put("runner", runnerJson(r));
    } else {
      Map<String, Object> gone = new LinkedHashMap<>();
      gone.put("id", j.runnerId());
      m.put("runner", gone);
    }
    m.put("web_url", url() + "/sandbox/-/jobs/" + j.jobId());
    return m;
  }

  private Map<String, Object> params(RecordedRequest request) {
    String body = request.getBody() == null ? "" : request.getBody().utf8();
    String contentType = request.getHeaders().get("Content-Type");
    Map<String, Object> params = new LinkedHashMap<>();
    if (contentType != null && contentType.startsWith("application/json")) {
      JsonNode node = json.readTree(body.isBlank() ? "{}" : body);
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        JsonNode v = e.getValue();
        if (v.isArray()) {
          List<String> values = new ArrayList<>();
          v.forEach(x -> values.add(x.asString()));
          params.put(e.getKey(), values);
        } else if (!v.isNull()) {
          params.put(e.getKey(), v.asString());
        }
      }
      return params;
    }
    // Form encoding, including GitLab's tag_list[]=a&tag_list[]=b.
    for (String pair : body.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value =
          eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      if (key.endsWith("[]")) {
        @SuppressWarnings("unchecked")
        List<String> list =
            (List<String>)
                params.computeIfAbsent(
                    key.substring(0, key.length() - 2), k -> new ArrayList<String>());
        list.add(value);
      } else {
        params.put(key, value);
      }
    }
    return params;
  }

  private static List<String> tags(Object value) {
    List<String> tags = new ArrayList<>();
    if (value instanceof List<?> list) {
      list.forEach(t -> tags.add(String.valueOf(t).trim()));
    } else if (value != null) {
      for (String t : String.valueOf(value).split(",")) {
        tags.add(t.trim());
      }
    }
    tags.removeIf(String::isEmpty);
    return List.copyOf(tags);
  }

  private static boolean authenticated(RecordedRequest request) {
    return request.getHeaders().get("PRIVATE-TOKEN") != null
        || request.getHeaders().get("Authorization") != null;
  }

  private MockResponse respond(int code, Object body) {
    return respond(code, body, Map.of());
  }

  private MockResponse respond(int code, Object body, Map<String, String> headers) {
    MockResponse.Builder b =
        new MockResponse.Builder()
            .code(code)
            .setHeader("Content-Type", "application/json")
            .body(json.writeValueAsString(body));
    headers.forEach(b::setHeader);
    return b.build();
  }

  private MockResponse notAllowed() {
    return respond(405, Map.of("error", "405 Method Not Allowed"));
  }

  private Job job(long projectId, long jobId) {
    Job job = jobs.get(new JobKey(projectId, jobId));
    if (job == null) {
      throw new IllegalArgumentException(
          "the sandbox knows no job " + jobId + " in project " + projectId + "; seed it first");
    }
    return job;
  }

  private static void checkStatus(String status) {
    if (!JOB_STATUSES.contains(status)) {
      throw new IllegalArgumentException("not a GitLab job status: " + status);
    }
  }

  private static int intParam(HttpUrl url, String name, int fallback) {
    String v = url.queryParameter(name);
    try {
      return v == null ? fallback : Integer.parseInt(v);
    } catch (NumberFormatException e) {
      return fallback;
    }
  }

  private static int clamp(int v, int min, int max) {
    return Math.max(min, Math.min(max, v));
  }

  private byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  /**
   * MockWebServer keeps every request for tests to inspect; a sandbox running for days would keep
   * them all, so each dispatch drops what came before.
   */
  private void forgetRequests() {
    try {
      while (server.takeRequest(0, TimeUnit.MILLISECONDS) != null) {
        // drained
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * What {@code /sandbox/inventory} lists under {@code gitlab}: {@code {"environments": [...],
   * "deployments": [...], "notes": [...], "statuses": [...]}}.
   */
  public record FeedbackInventory(
      List<EnvironmentEntry> environments,
      List<DeploymentEntry> deployments,
      List<NoteEntry> notes,
      List<StatusEntry> statuses) {}

  /** An environment; {@code mrIid} from a {@code review/mr-<iid>} name, else null. */
  public record EnvironmentEntry(
      long id, long projectId, Long mrIid, String name, String url, String state) {}

  /** A deployment, with its environment's name and URL; {@code state} is GitLab's status. */
  public record DeploymentEntry(
      long id,
      long projectId,
      Long mrIid,
      String environment,
      String url,
      String sha,
      String ref,
      String state) {}

  /** A merge request note. */
  public record NoteEntry(long id, long projectId, long mrIid, String body) {}

  /** A commit status; {@code url} is its target URL. */
  public record StatusEntry(
      long id, long projectId, String sha, String ref, String name, String url, String state) {}

  private record Environment(
      long id, long projectId, String name, String externalUrl, String state, String tier) {
    Environment withState(String s) {
      return new Environment(id, projectId, name, externalUrl, s, tier);
    }
  }

  private record Deployment(
      long id,
      long iid,
      long projectId,
      long environmentId,
      String sha,
      String ref,
      String status) {
    Deployment withStatus(String s) {
      return new Deployment(id, iid, projectId, environmentId, sha, ref, s);
    }
  }

  private record Note(long id, long projectId, long mrIid, String body, long updatedSeq) {}

  private record CommitStatus(
      long id,
      long projectId,
      String sha,
      String ref,
      String name,
      String state,
      String targetUrl,
      String description) {}

  /** A registered runner, as {@code /sandbox/inventory} lists it. */
  public record RunnerEntry(
      long id, long projectId, String description, List<String> tags, boolean active) {}

  private record Runner(
      long id,
      long projectId,
      String description,
      List<String> tags,
      boolean runUntagged,
      boolean active,
      Instant createdAt) {}

  private record JobKey(long projectId, long jobId) {}

  private record MergeRequest(
      long projectId,
      long iid,
      String sha,
      String sourceBranch,
      String title,
      String state,
      Instant createdAt) {
    JobKey key() {
      return new JobKey(projectId, iid);
    }
  }

  private record Job(
      long projectId,
      long jobId,
      String name,
      String status,
      List<String> tags,
      Long runnerId,
      Instant createdAt) {
    JobKey key() {
      return new JobKey(projectId, jobId);
    }
  }
}
