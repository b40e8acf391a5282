package io.ephemera.bench;

import io.ephemera.activity.kubernetes.NamespaceState;
import io.ephemera.common.EphemeraSearchAttributes;
import io.ephemera.common.WorkflowIds;
import io.ephemera.reviewapp.ReviewAppStatus;
import io.ephemera.reviewapp.ReviewAppWorkflow;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * 200 review apps opened and closed: webhook → READY and close → namespace gone, with the time of
 * each step. Times come from the workflow histories (server timestamps), compared with the
 * benchmark's clock at the moment it sent the delivery; both are this JVM's wall clock.
 */
final class LifecycleBench implements Benchmark {
  static final String NAME = "lifecycle";
  static final long PROJECT = 8100;
  private final Knobs knobs = new Knobs(NAME);

  /** One app's life as its history tells it. */
  record Life(
      double toReady,
      double toNamespaceGone,
      double toStopped,
      List<Histories.Activity> deploy,
      List<Histories.Activity> teardown) {}

  @Override
  public Report run() throws Exception {
    int apps = knobs.count("apps", 200, 4);
    int concurrency = knobs.integer("concurrency", 4);
    Duration timeout = knobs.duration("timeout", Duration.ofMinutes(2));
    Report report = new Report(NAME);
    try (App app = App.start(NAME, Map.of())) {
      GitLab gitlab = new GitLab(app);
      // Warm-up lifecycles, not measured: class loading, JIT, first connections.
      for (int i = 0; i < 3; i++) {
        life(app, gitlab, PROJECT - 1, i + 1, timeout);
      }
      ConcurrentLinkedQueue<Life> lives = new ConcurrentLinkedQueue<>();
      Parallel.run(concurrency, apps, i -> lives.add(life(app, gitlab, PROJECT, i + 1, timeout)));

      Stats ready = Stats.of(lives.stream().map(Life::toReady).toList());
      Stats gone = Stats.of(lives.stream().map(Life::toNamespaceGone).toList());
      Stats stopped = Stats.of(lives.stream().map(Life::toStopped).toList());
      report
          .table(
              "%d review apps, %d at a time".formatted(apps, concurrency),
              "interval",
              "p50",
              "p99",
              "max")
          .row(
              "open webhook sent → READY",
              Report.ms(ready.p50()),
              Report.ms(ready.p99()),
              Report.ms(ready.max()))
          .row(
              "close webhook sent → namespace gone",
              Report.ms(gone.p50()),
              Report.ms(gone.p99()),
              Report.ms(gone.max()))
          .row(
              "close webhook sent → STOPPED",
              Report.ms(stopped.p50()),
              Report.ms(stopped.p99()),
              Report.ms(stopped.max()));
      breakdown(report, "Deploy steps (activities, in order of first use)", lives, true);
      breakdown(report, "Teardown steps", lives, false);
      stepsInStatus(report, app.client);
      report.check(
          "webhook → READY p50", Report.ms(ready.p50()), "≤ 250 ms", ready.p50() <= 250, null);
      report.check(
          "close → namespace gone p50", Report.ms(gone.p50()), "≤ 250 ms", gone.p50() <= 250, null);
    }
    return report;
  }

  /** Opens MR {@code iid}, waits for READY, closes it, waits for the workflow to finish. */
  static Life life(App app, GitLab gitlab, long project, long iid, Duration timeout)
      throws Exception {
    String id = WorkflowIds.reviewApp(project, iid);
    String sha = GitLab.sha(project, iid, 0);
    Instant opened = Instant.now();
    GitLab.Answer a =
        gitlab.mergeRequest(
            "life-open-" + project + "-" + iid,
            GitLab.mergeRequest(project, iid, "open", sha, null));
    if (a.status() != 202) {
      throw new IllegalStateException("open of " + id + " answered " + a.status() + " " + a.body());
    }
    awaitPhase(app.client, id, "READY", timeout);
    Instant closed = Instant.now();
    a =
        gitlab.mergeRequest(
            "life-close-" + project + "-" + iid,
            GitLab.mergeRequest(project, iid, "close", sha, null));
    if (a.status() != 202) {
      throw new IllegalStateException(
          "close of " + id + " answered " + a.status() + " " + a.body());
    }
    if (!Workflows.awaitClosed(app.client, List.of(id), timeout).isEmpty()) {
      throw new IllegalStateException(id + " did not stop within " + timeout);
    }
    List<HistoryEvent> events = Histories.allRuns(app.client, id);
    Instant ready =
        Histories.firstPhase(events, "READY", opened)
            .orElseThrow(() -> new IllegalStateException(id + " never READY in history"));
    Instant stopped =
        Histories.firstPhase(events, "STOPPED", closed)
            .orElseThrow(() -> new IllegalStateException(id + " never STOPPED in history"));
    List<Histories.Activity> deploy = new ArrayList<>();
    List<Histories.Activity> teardown = new ArrayList<>();
    Instant gone = null;
    for (Histories.Activity act : Histories.activities(events)) {
      (act.scheduled().isBefore(closed) ? deploy : teardown).add(act);
      if (act.type().equals("KubernetesAwaitNamespaceGone")
          && act.result() != null
          && Histories.first(act.result(), NamespaceState.class).gone()) {
        gone = act.closed();
      }
    }
    if (gone == null) {
      throw new IllegalStateException(id + ": no awaitNamespaceGone answered gone");
    }
    return new Life(
        Histories.millis(opened, ready),
        Histories.millis(closed, gone),
        Histories.millis(closed, stopped),
        deploy,
        teardown);
  }

  /** Polls the server (describe: no worker involved) until the Phase search attribute says so. */
  static void awaitPhase(WorkflowClient client, String id, String phase, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        String now =
            client
                .newUntypedWorkflowStub(id)
                .describe()
                .getTypedSearchAttributes()
                .get(EphemeraSearchAttributes.PHASE);
        if (phase.equals(now)) {
          return;
        }
      } catch (io.temporal.client.WorkflowNotFoundException e) {
        // not started yet
      }
      // Measured times come from history; the poll only says when to look.
      Thread.sleep(25);
    }
    throw new IllegalStateException(id + " not " + phase + " within " + timeout);
  }

  private static void breakdown(
      Report report, String title, Iterable<Life> lives, boolean deploySteps) {
    Map<String, List<Double>> run = new ConcurrentHashMap<>();
    Map<String, List<Double>> queued = new ConcurrentHashMap<>();
    Map<String, Integer> order = new TreeMap<>();
    for (Life l : lives) {
      List<Histories.Activity> acts = deploySteps ? l.deploy() : l.teardown();
      for (int i = 0; i < acts.size(); i++) {
        Histories.Activity a = acts.get(i);
        run.computeIfAbsent(a.type(), k -> new ArrayList<>()).add(a.runMillis());
        queued.computeIfAbsent(a.type(), k -> new ArrayList<>()).add(a.queueMillis());
        order.merge(a.type(), i, Math::min);
      }
    }
    report.table(title, "activity", "calls", "run p50", "run p99", "queued p50", "queued p99");
    order.entrySet().stream()
        .sorted(Map.Entry.comparingByValue())
        .forEach(
            e -> {
              Stats r = Stats.of(run.get(e.getKey()));
              Stats q = Stats.of(queued.get(e.getKey()));
              report.row(
                  e.getKey(),
                  r.n(),
                  Report.ms(r.p50()),
                  Report.ms(r.p99()),
                  Report.ms(q.p50()),
                  Report.ms(q.p99()));
            });
  }

  /**
   * Builds with per-step times in {@code status().steps()} show them too; this build's status has
   * no such field, and the history breakdown above stands alone.
   */
  private static void stepsInStatus(Report report, WorkflowClient client) {
    RecordComponent steps = null;
    for (RecordComponent c : ReviewAppStatus.class.getRecordComponents()) {
      if (c.getName().equals("steps")) {
        steps = c;
      }
    }
    if (steps == null) {
      report.note(
          "status() carries no per-step times on this build; steps above are from history.");
      return;
    }
    try {
      ReviewAppStatus s =
          client
              .newWorkflowStub(ReviewAppWorkflow.class, WorkflowIds.reviewApp(PROJECT, 1))
              .status();
      report.note("status().steps() of the first app: " + steps.getAccessor().invoke(s));
    } catch (ReflectiveOperationException | RuntimeException e) {
      report.note("status().steps() could not be read: " + e);
    }
  }
}
