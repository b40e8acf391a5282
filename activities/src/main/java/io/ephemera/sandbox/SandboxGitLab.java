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
  private static final Pattern RUNNER_JOBS = Pattern.compile("/api/v4/runners/([0-9]+)/jobs");

  private final MockWebServer server = new MockWebServer();
  private final JsonMapper json = JsonMapper.builder().build();
  private final SecureRandom random = new SecureRandom();
  private final Clock clock;
  private final AtomicBoolean closed = new AtomicBoolean();

  // Guarded by this.
  private final TreeMap<Long, Runner> runners = new TreeMap<>();
  private final Map<JobKey, Job> jobs = new LinkedHashMap<>();
  private long nextRunnerId = 1001;

  private SandboxGitLab(Clock clock) {
    this.clock = clock;
    MOCK_WEB_SERVER_LOG.setLevel(Level.WARNING);
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            forgetRequests();
            try {
              return SandboxGitLab.this.dispatch(request);
            } catch (RuntimeException e) {
              log.warn("Sandbox GitLab failed on {}: {}", request.getRequestLine(), e.toString());
              return respond(500, Map.of("message", "500 Internal Server Error"));
            }
          }
        });
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
        "GitLab SANDBOX at {}: an in-memory stand-in for the runner and job endpoints of GitLab's"
            + " REST API, not a GitLab. No job ever runs in it; job statuses change only when told."
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
    return respond(404, Map.of("error", "404 Not Found"));
  }

  private MockResponse createRunner(RecordedRequest request) {
    Map<String, Object> params;
    try {
      params = params(request);
    } catch (JacksonException e) {
      return respond(400, Map.of("error", "body is not valid JSON"));
    }
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
      runners.put(id, new Runner(id, projectId, description, tags, runUntagged, true));
    }
    String token = TOKEN_PREFIX + HexFormat.of().formatHex(randomBytes(12));
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("id", id);
    body.put("token", token);
    body.put("token_expires_at", null);
    log.info("Sandbox GitLab registered runner {} in project {} ({})", id, projectId, description);
    return respond(201, body);
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

  /** A registered runner, as {@code /sandbox/inventory} lists it. */
  public record RunnerEntry(
      long id, long projectId, String description, List<String> tags, boolean active) {}

  private record Runner(
      long id,
      long projectId,
      String description,
      List<String> tags,
      boolean runUntagged,
      boolean active) {}

  private record JobKey(long projectId, long jobId) {}

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
