package io.ephemera.worker.chaos;

import io.ephemera.activity.credentials.Lease;
import io.ephemera.common.EphemeraSearchAttributes;
import io.ephemera.common.WorkflowIds;
import io.ephemera.reviewapp.ReviewAppPhase;
import io.ephemera.reviewapp.ReviewAppResult;
import io.ephemera.reviewapp.ReviewAppStatus;
import io.ephemera.reviewapp.ReviewAppWorkflow;
import io.ephemera.runner.RunnerPhase;
import io.ephemera.runner.RunnerStatus;
import io.ephemera.sandbox.SandboxCluster;
import io.ephemera.sandbox.SandboxEc2;
import io.ephemera.sandbox.SandboxFaults;
import io.ephemera.sandbox.SandboxGitLab;
import io.ephemera.sandbox.SandboxRegistry;
import io.ephemera.sandbox.SandboxVault;
import io.ephemera.worker.chaos.ChaosPlan.End;
import io.ephemera.worker.chaos.ChaosPlan.Lifecycle;
import io.ephemera.worker.chaos.ChaosPlan.Outcome;
import io.ephemera.worker.chaos.ChaosPlan.Pause;
import io.ephemera.worker.chaos.ChaosPlan.ReviewApp;
import io.ephemera.worker.chaos.ChaosPlan.Runner;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.ListClosedWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.ListClosedWorkflowExecutionsResponse;
import io.temporal.api.workflowservice.v1.ListOpenWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.ListOpenWorkflowExecutionsResponse;
import io.temporal.client.WorkflowClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Drives a chaos run against a running Ephemera (local profile): the lifecycles of a {@link
 * ChaosPlan} as GitLab would deliver them over HTTP, with every sandbox failing a share of its
 * calls and the Temporal worker restarted in the middle; then, with the faults off, waits for the
 * system to settle and checks what must hold: every workflow in the state its inputs imply, the
 * sandboxes holding exactly the live environments' resources, no (MR, SHA) deployed twice, no
 * accepted delivery lost.
 *
 * <p>Framework-free (no JUnit, no Spring test), so that the test ({@code ChaosTest}) and the
 * benchmark ({@code bench/}, the larger run) share it: each boots the application its own way and
 * hands over a {@link Target}.
 */
public final class ChaosDriver {
  /** System property that replays a run: {@code -Dephemera.chaos.seed=N}. */
  public static final String SEED_PROPERTY = "ephemera.chaos.seed";

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Duration STEP_DEADLINE = Duration.ofSeconds(90);

  /** Runs queries, so that one no worker answers can be given up on. */
  private static final ExecutorService QUERIES = Executors.newVirtualThreadPerTaskExecutor();

  /** What the driver talks to. {@code ec2} may be null (EC2 not sandboxed). */
  public record Target(
      int port,
      String webhookToken,
      WorkflowClient client,
      SandboxCluster cluster,
      SandboxGitLab gitlab,
      SandboxEc2 ec2,
      SandboxVault vault,
      SandboxRegistry registry,
      Runnable restartWorker) {}

  /**
   * @param probability share of sandbox calls that fail while the run drives
   * @param restarts worker restarts, spread evenly over the run
   * @param concurrency lifecycles in flight at once
   * @param settleDeadline how long the system may take to settle once the faults are off
   */
  public record Settings(
      long seed,
      int lifecycles,
      double probability,
      int restarts,
      int concurrency,
      Duration settleDeadline) {}

  /**
   * The application settings a chaos run needs beside the local profile's. The sandboxes answer at
   * once, so the run measures Ephemera's reaction to faults, not simulated latency; activity
   * retries are unlimited with a short backoff, because under 20% faults on every call a bounded
   * retry budget would end deploys as FAILED by chance, and what is tested is that every accepted
   * change eventually takes effect exactly once.
   */
  public static Map<String, String> applicationProperties() {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("ephemera.sandbox.kubernetes.rollout-delay", "0s");
    p.put("ephemera.sandbox.kubernetes.build-delay", "0s");
    p.put("ephemera.sandbox.ec2.state-delay", "0s");
    p.put("ephemera.build.poll-interval", "100ms");
    p.put("ephemera.activities.defaults.initial-interval", "200ms");
    p.put("ephemera.activities.defaults.max-interval", "2s");
    p.put("ephemera.activities.defaults.max-attempts", "0");
    // A task lost with a restarted worker is given to another after this, not after 2 minutes.
    p.put("ephemera.activities.defaults.start-to-close", "20s");
    for (String waiting :
        List.of(
            "KubernetesAwaitRollout",
            "KubernetesAwaitNamespaceGone",
            "BuildBuild",
            "ComputeAwaitTerminated")) {
      p.put("ephemera.activities.overrides." + waiting + ".heartbeat", "5s");
    }
    // A worker restart is a rolling update: in-flight tasks get the production grace (30 s) to
    // finish. Not a kill: the embedded (SDK test) server never times out an activity whose
    // cancellation was requested, so one abandoned mid-cancel would wait for good there, where a
    // real server times it out.
    p.put("ephemera.runners.routing.rules[0].job-name", "ec2-*");
    p.put("ephemera.runners.routing.rules[0].route.name", "ec2-chaos");
    p.put("ephemera.runners.routing.rules[0].route.type", "EC2");
    p.put("ephemera.runners.routing.rules[0].route.ami", "ami-0123456789abcdef0");
    p.put("ephemera.runners.routing.rules[0].route.instance-type", "t3.small");
    // The sandbox cluster hangs up by making its HTTP server fail an answer, which Vert.x logs as
    // an error every time.
    p.put("logging.level.io.vertx.core.net.impl.ConnectionBase", "OFF");
    return p;
  }

  /** The seed of {@code -Dephemera.chaos.seed}, else a fresh one. */
  public static long seed() {
    String set = System.getProperty(SEED_PROPERTY);
    return set == null || set.isBlank() ? System.nanoTime() : Long.parseLong(set.trim());
  }

  private final Target target;
  private final Settings settings;
  private final ChaosPlan plan;
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .executor(Executors.newVirtualThreadPerTaskExecutor())
          .build();

  private final List<String> violations = Collections.synchronizedList(new ArrayList<>());
  private final AtomicInteger deliveries = new AtomicInteger();
  private final AtomicInteger redeliveries = new AtomicInteger();
  private final AtomicInteger retriedAfterError = new AtomicInteger();
  private final List<Instant> restartsAt = Collections.synchronizedList(new ArrayList<>());

  /** Accepted deploy delivery keys by review app, and review apps whose stop was accepted. */
  private final Map<String, Set<String>> acceptedDeploys = new ConcurrentHashMap<>();

  private final Set<String> acceptedStops = ConcurrentHashMap.newKeySet();

  public ChaosDriver(Target target, Settings settings) {
    this.target = target;
    this.settings = settings;
    this.plan = ChaosPlan.generate(settings.seed(), settings.lifecycles());
  }

  /** The outcome of a run: figures for the summary, and every violation found. */
  public record Result(
      Settings settings,
      int reviewApps,
      int runners,
      int leftOpen,
      int deliveries,
      int redeliveries,
      int retriedAfterError,
      int restarts,
      Map<String, Map<SandboxFaults.Kind, Long>> faults,
      Map<String, Long> callsWhileFaulty,
      Duration drive,
      Duration settle,
      Duration check,
      int rollouts,
      int applyWorkloadCompletions,
      List<String> violations) {

    public boolean passed() {
      return violations.isEmpty();
    }

    /** The figures of the run as (figure, value) rows: what ran, what was injected, how long. */
    public List<List<String>> rows() {
      List<List<String>> rows = new ArrayList<>();
      rows.add(
          List.of(
              "seed",
              settings.seed() + " (replay: -D" + SEED_PROPERTY + "=" + settings.seed() + ")"));
      rows.add(
          List.of(
              "lifecycles",
              "%d (%d review apps, %d of them left open; %d runners)"
                  .formatted(settings.lifecycles(), reviewApps, leftOpen, runners)));
      rows.add(
          List.of("fault probability per sandbox call", Double.toString(settings.probability())));
      faults.forEach(
          (sandbox, kinds) ->
              rows.add(
                  List.of(
                      "faults injected: " + sandbox,
                      "%s of %d calls"
                          .formatted(kinds, callsWhileFaulty.getOrDefault(sandbox, 0L)))));
      rows.add(List.of("worker restarts", Integer.toString(restarts)));
      rows.add(
          List.of(
              "webhook deliveries",
              "%d accepted; %d deliberate redeliveries; %d resent after a 5xx or no answer"
                  .formatted(deliveries, redeliveries, retriedAfterError)));
      rows.add(List.of("drive (deliveries, faults on)", seconds(drive)));
      rows.add(List.of("settle (faults off, until every check holds)", seconds(settle)));
      rows.add(List.of("final checks (histories, rollouts)", seconds(check)));
      rows.add(
          List.of(
              "rollouts seen by the sandbox cluster",
              rollouts
                  + "; KubernetesApplyWorkload completed "
                  + applyWorkloadCompletions
                  + " times"));
      rows.add(
          List.of(
              "violations",
              violations.isEmpty() ? "none" : violations.size() + ", first: " + violations.get(0)));
      return rows;
    }

    /** The rows as a Markdown table. */
    public String summary() {
      StringBuilder s = new StringBuilder("| figure | value |\n|---|---|\n");
      for (List<String> r : rows()) {
        s.append("| ")
            .append(r.get(0))
            .append(" | ")
            .append(r.get(1).replace("|", "\\|"))
            .append(" |\n");
      }
      return s.toString();
    }

    private static String seconds(Duration d) {
      return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }
  }

  /** Runs the plan, settles, checks. Never throws for what it finds: see {@link Result}. */
  public Result run() throws InterruptedException {
    System.out.printf(
        "Chaos run: seed %d (replay with -D%s=%d), %d lifecycles, fault probability %s,"
            + " %d worker restarts%n",
        settings.seed(),
        SEED_PROPERTY,
        settings.seed(),
        settings.lifecycles(),
        settings.probability(),
        settings.restarts());
    for (Lifecycle l : plan.lifecycles()) {
      if (l instanceof ReviewApp app) {
        target.gitlab().seedProject(app.project(), app.path());
      }
    }
    List<SandboxFaults> faults = faults();
    Instant start = Instant.now();
    for (int i = 0; i < faults.size(); i++) {
      // One stream per sandbox, each from the run's seed.
      faults.get(i).enable(settings.probability(), settings.seed() * 31 + i);
    }
    int total = plan.lifecycles().size();
    AtomicInteger finished = new AtomicInteger();
    // Restarts spread over the run by lifecycles finished (started ones run ahead by the
    // concurrency), each while the others are in flight.
    Thread restarts =
        Thread.ofVirtual()
            .start(
                () -> {
                  for (int n = 1; n <= settings.restarts(); n++) {
                    int due = total * n / (settings.restarts() + 1);
                    while (finished.get() < due) {
                      try {
                        Thread.sleep(100);
                      } catch (InterruptedException e) {
                        return;
                      }
                    }
                    restartWorker(n);
                  }
                });
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      Semaphore inFlight = new Semaphore(settings.concurrency());
      for (int i = 0; i < total; i++) {
        inFlight.acquire();
        Lifecycle l = plan.lifecycles().get(i);
        pool.submit(
            () -> {
              try {
                if (l instanceof ReviewApp app) {
                  drive(app);
                } else {
                  drive((Runner) l);
                }
              } catch (Exception e) {
                violations.add(l.workflowId() + ": the driver failed: " + e);
              } finally {
                finished.incrementAndGet();
                inFlight.release();
              }
            });
        if ((i + 1) % 50 == 0) {
          System.out.printf("Chaos run: %d/%d lifecycles started%n", i + 1, total);
        }
      }
    }
    restarts.join();
    Instant driven = Instant.now();
    Map<String, Map<SandboxFaults.Kind, Long>> injected = new LinkedHashMap<>();
    Map<String, Long> calls = new LinkedHashMap<>();
    for (SandboxFaults f : faults) {
      f.disable();
      injected.put(f.name(), f.injected());
      calls.put(f.name(), f.requestsWhileOn());
    }
    System.out.printf(
        "Chaos run: driven in %.1f s; faults off, waiting for the system to settle%n",
        Duration.between(start, driven).toMillis() / 1000.0);

    List<String> unsettled = settle();
    Instant settled = Instant.now();
    violations.addAll(unsettled);
    Checked checked = unsettled.isEmpty() ? finalChecks() : new Checked(0, 0);
    Instant end = Instant.now();
    return new Result(
        settings,
        (int) plan.reviewApps(),
        (int) plan.runners(),
        (int)
            plan.lifecycles().stream()
                .filter(l -> l instanceof ReviewApp a && a.end() == End.LEFT_OPEN)
                .count(),
        deliveries.get(),
        redeliveries.get(),
        retriedAfterError.get(),
        restartsAt.size(),
        injected,
        calls,
        Duration.between(start, driven),
        Duration.between(driven, settled),
        Duration.between(settled, end),
        checked.rollouts,
        checked.applied,
        List.copyOf(violations));
  }

  private List<SandboxFaults> faults() {
    List<SandboxFaults> out = new ArrayList<>();
    out.add(target.cluster().faults());
    out.add(target.gitlab().faults());
    if (target.ec2() != null) {
      out.add(target.ec2().faults());
    }
    out.add(target.vault().faults());
    out.add(target.registry().faults());
    return out;
  }

  private void restartWorker(int n) {
    long t = System.nanoTime();
    target.restartWorker().run();
    restartsAt.add(Instant.now());
    System.out.printf(
        "Chaos run: worker restart %d of %d took %d ms%n",
        n, settings.restarts(), (System.nanoTime() - t) / 1_000_000);
  }

  // ---- lifecycles ----

  private void drive(ReviewApp app) throws Exception {
    String id = app.workflowId();
    List<String> shas = app.shas();
    target
        .gitlab()
        .seedMergeRequest(app.project(), app.iid(), shas.get(0), branch(app), "Chaos " + id);
    int step = 0;
    for (int i = 0; i < shas.size(); i++, step++) {
      pause(app.pauses().get(step), id);
      if (i > 0) {
        target
            .gitlab()
            .seedMergeRequest(app.project(), app.iid(), shas.get(i), branch(app), "Chaos " + id);
      }
      String key = key(id, step);
      String body =
          mergeRequest(
              app, i == 0 ? "open" : "update", shas.get(i), i == 0 ? null : shas.get(i - 1));
      if (deliver("Merge Request Hook", key, body, app.redeliver().get(step), id)) {
        acceptedDeploys.computeIfAbsent(id, k -> ConcurrentHashMap.newKeySet()).add(key);
      }
    }
    if (app.end() == End.LEFT_OPEN) {
      return;
    }
    pause(app.pauses().get(step), id);
    String state = app.end() == End.CLOSED ? "closed" : "merged";
    target.gitlab().setMergeRequestState(app.project(), app.iid(), state);
    String action = app.end() == End.CLOSED ? "close" : "merge";
    if (deliver(
        "Merge Request Hook",
        key(id, step),
        mergeRequest(app, action, app.lastSha(), null),
        app.redeliver().get(step),
        id)) {
      acceptedStops.add(id);
    }
  }

  private void drive(Runner job) throws Exception {
    String id = job.workflowId();
    target.gitlab().seedJob(job.project(), job.jobId(), job.jobName(), "pending", List.of());
    pause(job.pauses().get(0), id);
    deliver("Job Hook", key(id, 0), jobHook(job, "pending", null), job.redeliver().get(0), id);
    if (job.outcome() == Outcome.CANCELED_PENDING) {
      pause(job.pauses().get(1), id);
      target.gitlab().setJobStatus(job.project(), job.jobId(), "canceled");
      deliver("Job Hook", key(id, 1), jobHook(job, "canceled", null), job.redeliver().get(1), id);
      return;
    }
    // GitLab gives the job to the runner that polls for it: wait for the runner to wait, then take
    // its id from GitLab's own records, as GitLab would.
    Long runner = null;
    if (awaitPhase(id, Set.of("WAITING"), STEP_DEADLINE)) {
      String description = WorkflowIds.runnerDescription(id);
      runner =
          target.gitlab().inventory().stream()
              .filter(r -> r.description().equals(description))
              .map(SandboxGitLab.RunnerEntry::id)
              .findFirst()
              .orElse(null);
    }
    if (runner == null) {
      violations.add(id + ": the runner never came up (WAITING) within " + STEP_DEADLINE);
      return;
    }
    pause(job.pauses().get(1), id);
    target.gitlab().setJobStatus(job.project(), job.jobId(), "running", runner);
    deliver("Job Hook", key(id, 1), jobHook(job, "running", runner), job.redeliver().get(1), id);
    pause(job.pauses().get(2), id);
    String status =
        switch (job.outcome()) {
          case SUCCESS -> "success";
          case FAILED -> "failed";
          default -> "canceled";
        };
    target.gitlab().setJobStatus(job.project(), job.jobId(), status, runner);
    deliver("Job Hook", key(id, 2), jobHook(job, status, runner), job.redeliver().get(2), id);
  }

  /** A random pause, or (for a review app) until its current deploy has settled. */
  private void pause(Pause p, String workflowId) throws InterruptedException {
    if (p.untilSettled() && workflowId.startsWith("review-app/")) {
      awaitPhase(workflowId, Set.of("READY", "FAILED"), STEP_DEADLINE);
      return;
    }
    Thread.sleep(p.millis());
  }

  /**
   * Waits until the workflow's {@code Phase} search attribute is one of {@code phases}. The server
   * answers it alone, so waiting costs the worker nothing (a {@code status()} query would).
   */
  private boolean awaitPhase(String workflowId, Set<String> phases, Duration within)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        String phase =
            target
                .client()
                .newUntypedWorkflowStub(workflowId)
                .describe()
                .getTypedSearchAttributes()
                .get(EphemeraSearchAttributes.PHASE);
        if (phase != null && phases.contains(phase)) {
          return true;
        }
      } catch (io.temporal.client.WorkflowNotFoundException e) {
        // not started yet
      }
      Thread.sleep(250);
    }
    return false;
  }

  /**
   * Delivers until accepted, as GitLab's manual redelivery would after a 5xx or no answer (same
   * Idempotency-Key); {@code twice} redelivers an accepted delivery once more. False when it was
   * never accepted (a violation is recorded).
   */
  private boolean deliver(String event, String key, String body, boolean twice, String workflowId)
      throws InterruptedException {
    boolean accepted = deliverOnce(event, key, body, workflowId);
    if (accepted) {
      deliveries.incrementAndGet();
    }
    if (accepted && twice) {
      redeliveries.incrementAndGet();
      deliverOnce(event, key, body, workflowId);
    }
    return accepted;
  }

  private boolean deliverOnce(String event, String key, String body, String workflowId)
      throws InterruptedException {
    long deadline = System.nanoTime() + STEP_DEADLINE.toNanos();
    String last = null;
    for (int attempt = 1; System.nanoTime() < deadline; attempt++) {
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(uri("/webhooks/gitlab"))
                    .timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json")
                    .header("X-Gitlab-Event", event)
                    .header("X-Gitlab-Token", target.webhookToken())
                    .header("Idempotency-Key", key)
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 == 2) {
          return true;
        }
        if (r.statusCode() < 500) {
          violations.add(
              workflowId + ": a valid delivery " + key + " got " + r.statusCode() + " " + r.body());
          return false;
        }
        last = r.statusCode() + " " + r.body();
      } catch (IOException e) {
        last = e.toString();
      }
      retriedAfterError.incrementAndGet();
      Thread.sleep(Math.min(2_000, 100L * attempt));
    }
    violations.add(workflowId + ": delivery " + key + " never accepted; last answer " + last);
    return false;
  }

  // ---- settling and checks ----

  /**
   * Waits until every workflow is where its inputs say and the sandboxes hold exactly the live
   * environments; answers what still does not hold at the deadline (empty when settled).
   */
  private List<String> settle() throws InterruptedException {
    long deadline = System.nanoTime() + settings.settleDeadline().toNanos();
    List<String> problems = List.of();
    while (System.nanoTime() < deadline) {
      problems = unsettled();
      if (problems.isEmpty()) {
        return problems;
      }
      Thread.sleep(1_000);
    }
    List<String> out = new ArrayList<>();
    out.add("not settled within " + settings.settleDeadline() + ": " + problems.size() + " issues");
    out.addAll(problems.subList(0, Math.min(40, problems.size())));
    printHistoriesOf(problems);
    return out;
  }

  /** The tail of the histories of a few unsettled workflows, for whoever reads the failure. */
  private void printHistoriesOf(List<String> problems) {
    Set<String> ids = new java.util.LinkedHashSet<>();
    for (String p : problems) {
      int colon = p.indexOf(':');
      if (colon > 0 && (p.startsWith("review-app/") || p.startsWith("runner/"))) {
        ids.add(p.substring(0, colon));
      }
      if (ids.size() == 5) {
        break;
      }
    }
    for (String id : ids) {
      StringBuilder b = new StringBuilder("History of unsettled " + id + " (last 40 events):\n");
      try {
        List<HistoryEvent> events = target.client().fetchHistory(id).getEvents();
        for (HistoryEvent e : events.subList(Math.max(0, events.size() - 40), events.size())) {
          b.append("  ")
              .append(e.getEventId())
              .append(' ')
              .append(
                  Instant.ofEpochSecond(e.getEventTime().getSeconds(), e.getEventTime().getNanos()))
              .append(' ')
              .append(e.getEventType().name().replace("EVENT_TYPE_", ""));
          if (e.hasActivityTaskScheduledEventAttributes()) {
            b.append(' ')
                .append(e.getActivityTaskScheduledEventAttributes().getActivityType().getName());
          }
          if (e.hasActivityTaskFailedEventAttributes()) {
            b.append(' ')
                .append(e.getActivityTaskFailedEventAttributes().getFailure().getMessage());
          }
          if (e.hasActivityTaskTimedOutEventAttributes()) {
            b.append(' ')
                .append(e.getActivityTaskTimedOutEventAttributes().getFailure().getMessage());
          }
          if (e.hasWorkflowTaskFailedEventAttributes()) {
            b.append(' ')
                .append(e.getWorkflowTaskFailedEventAttributes().getCause())
                .append(' ')
                .append(e.getWorkflowTaskFailedEventAttributes().getFailure().getMessage());
          }
          if (e.hasWorkflowExecutionSignaledEventAttributes()) {
            b.append(' ').append(e.getWorkflowExecutionSignaledEventAttributes().getSignalName());
          }
          b.append('\n');
        }
        var pending =
            target
                .client()
                .getWorkflowServiceStubs()
                .blockingStub()
                .describeWorkflowExecution(
                    DescribeWorkflowExecutionRequest.newBuilder()
                        .setNamespace(target.client().getOptions().getNamespace())
                        .setExecution(WorkflowExecution.newBuilder().setWorkflowId(id))
                        .build());
        pending
            .getPendingActivitiesList()
            .forEach(
                a ->
                    b.append("  pending ")
                        .append(a.getActivityType().getName())
                        .append(" attempt ")
                        .append(a.getAttempt())
                        .append(' ')
                        .append(a.getState())
                        .append(' ')
                        .append(a.getLastFailure().getMessage())
                        .append('\n'));
        if (pending.hasPendingWorkflowTask()) {
          b.append("  pending workflow task: ")
              .append(pending.getPendingWorkflowTask())
              .append('\n');
        }
      } catch (RuntimeException e) {
        b.append("  (cannot read: ").append(e).append(")\n");
      }
      System.out.print(b);
    }
  }

  private List<String> unsettled() {
    List<String> problems = new ArrayList<>();
    Set<String> liveNamespaces = new TreeSet<>();
    Set<String> liveLeases = new TreeSet<>();
    Map<String, String> liveShas = new HashMap<>();
    for (Lifecycle l : plan.lifecycles()) {
      try {
        if (l instanceof ReviewApp app) {
          checkReviewApp(app, problems, liveNamespaces, liveLeases, liveShas);
        } else {
          checkRunner((Runner) l, problems);
        }
      } catch (RuntimeException e) {
        problems.add(l.workflowId() + ": " + e);
      }
    }
    try {
      checkInventory(problems, liveNamespaces, liveLeases, liveShas);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      problems.add("interrupted");
    } catch (RuntimeException e) {
      problems.add("inventory: " + e);
    }
    return problems;
  }

  private void checkReviewApp(
      ReviewApp app,
      List<String> problems,
      Set<String> liveNamespaces,
      Set<String> liveLeases,
      Map<String, String> liveShas) {
    String id = app.workflowId();
    WorkflowExecutionStatus status = status(id);
    if (app.end() == End.LEFT_OPEN) {
      liveNamespaces.add(app.namespace());
      liveShas.put(app.namespace(), app.lastSha());
      if (status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
        problems.add(id + ": left open, but its workflow is " + status);
        return;
      }
      ReviewAppStatus s = query(id);
      for (Lease lease : s.leases()) {
        if (lease.revocable()) {
          liveLeases.add(lease.leaseId());
        }
      }
      if (s.phase() != ReviewAppPhase.READY || !app.lastSha().equals(s.sha())) {
        problems.add(
            id
                + ": left open at "
                + app.lastSha()
                + ", but "
                + s.phase()
                + " at "
                + s.sha()
                + " (step "
                + s.step()
                + ", stop "
                + s.stopReason()
                + ", error "
                + s.lastError()
                + ")");
      }
      return;
    }
    if (status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
      problems.add(id + ": " + app.end() + ", but its workflow is " + status);
      return;
    }
    ReviewAppStatus s = result(id, ReviewAppResult.class).finalStatus();
    if (s.phase() != ReviewAppPhase.STOPPED) {
      problems.add(id + ": " + app.end() + ", but it ended " + s.phase());
    }
  }

  private void checkRunner(Runner job, List<String> problems) {
    String id = job.workflowId();
    WorkflowExecutionStatus status = status(id);
    if (status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
      problems.add(id + ": job " + job.outcome() + ", but its workflow is " + status);
      return;
    }
    RunnerStatus s = result(id, RunnerStatus.class);
    if (s.phase() != RunnerPhase.FINISHED) {
      problems.add(id + ": job " + job.outcome() + ", but the runner ended " + s.phase());
    }
  }

  private void checkInventory(
      List<String> problems,
      Set<String> liveNamespaces,
      Set<String> liveLeases,
      Map<String, String> liveShas)
      throws InterruptedException {
    JsonNode inventory = getPlain("/sandbox/inventory");
    if (inventory == null) {
      problems.add("inventory: no answer");
      return;
    }
    Set<String> seen = new TreeSet<>();
    for (JsonNode ns : inventory.path("namespaces")) {
      String name = text(ns, "name");
      if (name.startsWith("review-")) {
        seen.add(name);
        if (!liveNamespaces.contains(name)) {
          problems.add("inventory: namespace " + name + " of no live review app");
          continue;
        }
        String sha = null;
        for (JsonNode o : ns.path("objects")) {
          if ("Deployment".equals(text(o, "kind"))) {
            sha = text(o.path("labels"), "ephemera.io/sha");
          }
        }
        if (!liveShas.get(name).equals(sha)) {
          problems.add("inventory: " + name + " runs " + sha + ", not " + liveShas.get(name));
        }
        continue;
      }
      // Namespaces of Ephemera itself (runners, builds): nothing of a finished workflow may stay.
      for (JsonNode o : ns.path("objects")) {
        String owner = text(o.path("labels"), "ephemera.io/workflow-id");
        if (!owner.isEmpty()) {
          problems.add(
              "inventory: "
                  + text(o, "kind")
                  + " "
                  + name
                  + "/"
                  + text(o, "name")
                  + " of "
                  + owner);
        }
      }
    }
    for (String expected : liveNamespaces) {
      if (!seen.contains(expected)) {
        problems.add("inventory: live review app's namespace " + expected + " is missing");
      }
    }
    for (JsonNode b : inventory.path("builds")) {
      problems.add("inventory: build Job " + text(b, "namespace") + "/" + text(b, "name"));
    }
    for (JsonNode r : inventory.path("runners")) {
      problems.add("inventory: GitLab runner " + r.path("id") + " " + text(r, "description"));
    }
    for (JsonNode i : inventory.path("instances")) {
      problems.add("inventory: EC2 instance " + text(i, "id") + " " + text(i, "state"));
    }
    Set<String> active = new TreeSet<>();
    for (JsonNode l : inventory.path("leases")) {
      if (SandboxVault.STATE_ACTIVE.equals(text(l, "state"))) {
        active.add(text(l, "leaseId"));
      }
    }
    for (String lease : active) {
      if (!liveLeases.contains(lease)) {
        problems.add("inventory: active lease " + lease + " of no live review app");
      }
    }
    for (String lease : liveLeases) {
      if (!active.contains(lease)) {
        problems.add("inventory: a live review app's lease " + lease + " is not active");
      }
    }
  }

  private JsonNode getPlain(String path) throws InterruptedException {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20)).build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
    } catch (IOException e) {
      return null;
    }
  }

  private record Checked(int rollouts, int applied) {}

  /**
   * Once settled: no (MR, SHA) rolled out twice, by the sandbox cluster's record and by the
   * histories' completed {@code KubernetesApplyWorkload}; every accepted delivery in a history.
   */
  private Checked finalChecks() {
    Map<String, Integer> rollouts = new TreeMap<>();
    List<SandboxCluster.Rollout> all = target.cluster().rollouts();
    for (SandboxCluster.Rollout r : all) {
      rollouts.merge(r.namespace() + "@" + r.sha(), 1, Integer::sum);
    }
    rollouts.forEach(
        (k, n) -> {
          if (n > 1) {
            violations.add(
                "deployed twice: " + k + " rolled out " + n + " times (sandbox cluster)");
          }
        });
    for (Lifecycle l : plan.lifecycles()) {
      if (l instanceof ReviewApp app
          && app.end() == End.LEFT_OPEN
          && !rollouts.containsKey(app.namespace() + "@" + app.lastSha())) {
        violations.add(app.workflowId() + ": no rollout of " + app.lastSha() + " was seen");
      }
    }
    Map<String, List<String>> runs = runs();
    int applied = 0;
    for (Lifecycle l : plan.lifecycles()) {
      String id = l.workflowId();
      List<String> runIds = runs.getOrDefault(id, List.of());
      if (runIds.isEmpty()) {
        violations.add(id + ": no run in Temporal");
        continue;
      }
      if (l instanceof ReviewApp) {
        applied += checkHistories(id, runIds);
      }
    }
    return new Checked(all.size(), applied);
  }

  /** Deploys per SHA and accepted keys over every run of one review app; completions counted. */
  private int checkHistories(String id, List<String> runIds) {
    Map<String, Integer> appliedBySha = new TreeMap<>();
    Set<String> signalled = new HashSet<>();
    boolean stopped = false;
    for (String runId : runIds) {
      Map<Long, String> applySha = new HashMap<>();
      for (HistoryEvent e : target.client().fetchHistory(id, runId).getEvents()) {
        EventType t = e.getEventType();
        if (t == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
          var a = e.getActivityTaskScheduledEventAttributes();
          if (a.getActivityType().getName().equals("KubernetesApplyWorkload")) {
            JsonNode spec = JSON.readTree(a.getInput().getPayloads(0).getData().toStringUtf8());
            applySha.put(e.getEventId(), text(spec, "sha"));
          }
        } else if (t == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
          String sha =
              applySha.get(e.getActivityTaskCompletedEventAttributes().getScheduledEventId());
          if (sha != null) {
            appliedBySha.merge(sha, 1, Integer::sum);
          }
        } else if (t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) {
          var a = e.getWorkflowExecutionSignaledEventAttributes();
          if (a.getSignalName().equals(ReviewAppWorkflow.SIGNAL_STOP)) {
            stopped = true;
          } else if (a.getInput().getPayloadsCount() > 0) {
            JsonNode d = JSON.readTree(a.getInput().getPayloads(0).getData().toStringUtf8());
            signalled.add(text(d, "idempotencyKey"));
          }
        }
      }
    }
    appliedBySha.forEach(
        (sha, n) -> {
          if (n > 1) {
            violations.add(
                "deployed twice: " + id + " applied " + sha + " " + n + " times (history)");
          }
        });
    for (String key : acceptedDeploys.getOrDefault(id, Set.of())) {
      if (!signalled.contains(key)) {
        violations.add(id + ": accepted delivery " + key + " is in no history (lost)");
      }
    }
    if (acceptedStops.contains(id) && !stopped) {
      violations.add(id + ": its accepted close/merge is in no history (lost)");
    }
    return appliedBySha.values().stream().mapToInt(Integer::intValue).sum();
  }

  /** Every run Temporal knows, open or closed: workflow id → run ids. */
  private Map<String, List<String>> runs() {
    String namespace = target.client().getOptions().getNamespace();
    var stub = target.client().getWorkflowServiceStubs().blockingStub();
    Map<String, List<String>> runs = new HashMap<>();
    com.google.protobuf.ByteString page = com.google.protobuf.ByteString.EMPTY;
    do {
      ListOpenWorkflowExecutionsResponse r =
          stub.listOpenWorkflowExecutions(
              ListOpenWorkflowExecutionsRequest.newBuilder()
                  .setNamespace(namespace)
                  .setMaximumPageSize(1000)
                  .setNextPageToken(page)
                  .build());
      add(runs, r.getExecutionsList());
      page = r.getNextPageToken();
    } while (!page.isEmpty());
    do {
      ListClosedWorkflowExecutionsResponse r =
          stub.listClosedWorkflowExecutions(
              ListClosedWorkflowExecutionsRequest.newBuilder()
                  .setNamespace(namespace)
                  .setMaximumPageSize(1000)
                  .setNextPageToken(page)
                  .build());
      add(runs, r.getExecutionsList());
      page = r.getNextPageToken();
    } while (!page.isEmpty());
    return runs;
  }

  private static void add(Map<String, List<String>> runs, List<WorkflowExecutionInfo> infos) {
    for (WorkflowExecutionInfo i : infos) {
      runs.computeIfAbsent(i.getExecution().getWorkflowId(), k -> new ArrayList<>())
          .add(i.getExecution().getRunId());
    }
  }

  /** {@code status()} of a running review app, or an exception when no worker answers in 10 s. */
  private ReviewAppStatus query(String workflowId) {
    try {
      return java.util.concurrent.CompletableFuture.supplyAsync(
              () -> target.client().newWorkflowStub(ReviewAppWorkflow.class, workflowId).status(),
              QUERIES)
          .get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("status() unanswered within 10 s");
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("status() failed: " + e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }

  private <T> T result(String workflowId, Class<T> type) {
    try {
      return target
          .client()
          .newUntypedWorkflowStub(workflowId)
          .getResult(10, TimeUnit.SECONDS, type);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("no result within 10 s", e);
    }
  }

  private WorkflowExecutionStatus status(String workflowId) {
    try {
      return target
          .client()
          .getWorkflowServiceStubs()
          .blockingStub()
          .describeWorkflowExecution(
              DescribeWorkflowExecutionRequest.newBuilder()
                  .setNamespace(target.client().getOptions().getNamespace())
                  .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId))
                  .build())
          .getWorkflowExecutionInfo()
          .getStatus();
    } catch (io.grpc.StatusRuntimeException e) {
      if (e.getStatus().getCode() == io.grpc.Status.Code.NOT_FOUND) {
        return WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED;
      }
      throw e;
    }
  }

  // ---- payloads ----

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + target.port() + path);
  }

  private String key(String workflowId, int step) {
    return "chaos-" + settings.seed() + "-" + workflowId.replace('/', '-') + "-" + step;
  }

  private static String branch(ReviewApp app) {
    return "feature-" + app.iid();
  }

  /** A Merge Request Hook with the fields the webhook reads (see {@code MergeRequestEvent}). */
  static String mergeRequest(ReviewApp app, String action, String sha, String oldrev) {
    String state =
        switch (action) {
          case "close" -> "closed";
          case "merge" -> "merged";
          default -> "opened";
        };
    return """
        {"object_kind": "merge_request", "event_type": "merge_request",
         "user": {"id": 1, "name": "Chaos", "username": "chaos"},
         "project": {"id": %d, "name": "project-%d", "path_with_namespace": "%s",
                     "web_url": "http://gitlab.localhost/%s"},
         "object_attributes": {"iid": %d, "id": %d, "title": "Chaos MR %d",
           "action": "%s", "state": "%s", "source_branch": "%s",
           "target_branch": "main", "source_project_id": %d, "target_project_id": %d,
           %s"last_commit": {"id": "%s", "message": "chaos"}},
         "labels": [], "changes": {}}"""
        .formatted(
            app.project(),
            app.project(),
            app.path(),
            app.path(),
            app.iid(),
            app.project() * 100_000 + app.iid(),
            app.iid(),
            action,
            state,
            branch(app),
            app.project(),
            app.project(),
            oldrev == null ? "" : "\"oldrev\": \"" + oldrev + "\", ",
            sha);
  }

  /**
   * A Job Hook without {@code tag_list}, so that routing asks the (faulty) Jobs API for the tags.
   */
  static String jobHook(Runner job, String status, Long runnerId) {
    String runner =
        runnerId == null
            ? "null"
            : """
              {"id": %d, "description": "%s", "runner_type": "project_type",
               "active": true, "is_shared": false, "tags": []}"""
                .formatted(runnerId, WorkflowIds.runnerDescription(job.workflowId()));
    return """
        {"object_kind": "build", "ref": "main", "tag": false,
         "sha": "2293ada6b400935a1378653304eaf6221e0fdb8f",
         "build_id": %d, "build_name": "%s", "build_stage": "test", "build_status": "%s",
         "pipeline_id": 2366, "runner": %s, "project_id": %d,
         "project_name": "chaos/project-%d",
         "project": {"id": %d, "name": "project-%d", "path_with_namespace": "chaos/project-%d"}}"""
        .formatted(
            job.jobId(),
            job.jobName(),
            status,
            runner,
            job.project(),
            job.project(),
            job.project(),
            job.project(),
            job.project());
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node == null ? null : node.get(field);
    return v == null || v.isNull() ? "" : v.asString();
  }
}
