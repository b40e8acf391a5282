package io.ephemera.bench;

import io.ephemera.common.EphemeraSearchAttributes;
import io.ephemera.common.WorkflowIds;
import io.ephemera.runner.RunnerPhase;
import io.ephemera.runner.RunnerStatus;
import io.ephemera.runner.RunnerWorkflow;
import io.ephemera.sandbox.SandboxCluster;
import io.ephemera.sandbox.SandboxGitLab;
import io.temporal.client.WorkflowClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * 1,000 pending-job webhooks across 20 projects with a per-project limit of runners: webhook →
 * runner registered and compute up (phase WAITING), and job-finished webhook → runner deleted and
 * compute gone (phase FINISHED, reached only after both compensations). The benchmark plays GitLab:
 * once a runner waits, its job runs on it and succeeds at once, which frees the slot for the next
 * job of that project.
 *
 * <p>A project's first {@code limit} jobs find a free slot; the others queue until a runner of the
 * project finishes. The target is on the first group (what Ephemera adds); the queued jobs' times
 * are reported beside it, including their time in the queue.
 */
final class RunnersBench implements Benchmark {
  static final String NAME = "runners";
  static final long FIRST_PROJECT = 9500;
  private final Knobs knobs = new Knobs(NAME);

  /** What the benchmark knows of one job. */
  static final class Job {
    final long project;
    final long jobId;
    final boolean firstInLine;
    volatile Instant pendingSent;
    volatile Instant finishedSent;

    Job(long project, long jobId, boolean firstInLine) {
      this.project = project;
      this.jobId = jobId;
      this.firstInLine = firstInLine;
    }

    String workflowId() {
      return WorkflowIds.runner(project, jobId);
    }
  }

  @Override
  public Report run() throws Exception {
    int jobs = knobs.count("jobs", 1_000, 10);
    int projects = Math.min(jobs, knobs.count("projects", 20, 2));
    int limit = knobs.integer("limit", 20);
    int concurrency = knobs.integer("concurrency", 8);
    Duration timeout = knobs.duration("timeout", Duration.ofMinutes(20));
    Report report = new Report(NAME);
    try (App app =
        App.start(NAME, Map.of("ephemera.runners.max-concurrent", Integer.toString(limit)))) {
      SandboxGitLab sandbox = app.bean(SandboxGitLab.class);
      GitLab gitlab = new GitLab(app);
      List<Job> all = new ArrayList<>();
      Map<Long, Integer> perProject = new ConcurrentHashMap<>();
      for (int i = 0; i < jobs; i++) {
        long project = FIRST_PROJECT + i % projects;
        int n = perProject.merge(project, 1, Integer::sum);
        Job j = new Job(project, 100_000L + i, n <= limit);
        sandbox.seedJob(project, j.jobId, "test", "pending", List.of());
        all.add(j);
      }
      // The driver plays GitLab while the pending hooks are still being sent.
      Thread driver =
          Thread.ofVirtual().start(() -> drive(app.client, sandbox, gitlab, all, timeout));
      Parallel.run(
          concurrency,
          all.size(),
          i -> {
            Job j = all.get(i);
            j.pendingSent = Instant.now();
            GitLab.Answer a =
                gitlab.job("pending-" + j.jobId, GitLab.job(j.project, j.jobId, "pending", null));
            if (a.status() != 202) {
              throw new IllegalStateException(
                  "pending " + j.jobId + ": " + a.status() + " " + a.body());
            }
          });
      driver.join(timeout.toMillis());
      List<String> ids = all.stream().map(Job::workflowId).toList();
      int running = Workflows.awaitClosed(app.client, ids, Duration.ofMinutes(2)).size();

      List<Double> upFirst = new ArrayList<>();
      List<Double> upAll = new ArrayList<>();
      List<Double> queued = new ArrayList<>();
      List<Double> gone = new ArrayList<>();
      int finished = 0;
      for (Job j : all) {
        RunnerStatus s =
            app.client.newUntypedWorkflowStub(j.workflowId()).getResult(RunnerStatus.class);
        Instant waiting = at(s, RunnerPhase.WAITING);
        Instant registering = at(s, RunnerPhase.REGISTERING);
        Instant queuedAt = at(s, RunnerPhase.QUEUED);
        Instant done = at(s, RunnerPhase.FINISHED);
        if (waiting != null) {
          double up = Histories.millis(j.pendingSent, waiting);
          upAll.add(up);
          if (j.firstInLine) {
            upFirst.add(up);
          }
        }
        if (queuedAt != null && registering != null) {
          queued.add(Histories.millis(queuedAt, registering));
        }
        if (done != null && j.finishedSent != null) {
          gone.add(Histories.millis(j.finishedSent, done));
          finished++;
        }
      }
      int runnersLeft = sandbox.inventory().size();
      int podsLeft = pods(app);
      Stats first = Stats.of(upFirst);
      Stats everyone = Stats.of(upAll);
      Stats queue = Stats.of(queued);
      Stats teardown = Stats.of(gone);
      report
          .table(
              "%d jobs across %d projects, at most %d runners per project"
                  .formatted(jobs, projects, limit),
              "interval",
              "jobs",
              "p50",
              "p99",
              "max")
          .row(
              "pending webhook → runner registered, compute up (a slot was free)",
              first.n(),
              Report.ms(first.p50()),
              Report.ms(first.p99()),
              Report.ms(first.max()))
          .row(
              "pending webhook → runner registered, compute up (all jobs)",
              everyone.n(),
              Report.ms(everyone.p50()),
              Report.ms(everyone.p99()),
              Report.ms(everyone.max()))
          .row(
              "of which waiting for a slot (QUEUED → REGISTERING)",
              queue.n(),
              Report.ms(queue.p50()),
              Report.ms(queue.p99()),
              Report.ms(queue.max()))
          .row(
              "job-finished webhook → runner deleted and compute gone",
              teardown.n(),
              Report.ms(teardown.p50()),
              Report.ms(teardown.p99()),
              Report.ms(teardown.max()));
      report.note(
          "Finished %d of %d; still running %d; left in the sandboxes: %d GitLab runners, %d runner pods."
              .formatted(finished, jobs, running, runnersLeft, podsLeft));
      boolean clean = finished == jobs && running == 0 && runnersLeft == 0 && podsLeft == 0;
      report.check(
          "webhook → runner up p50",
          Report.ms(first.p50()),
          "≤ 250 ms",
          first.p50() <= 250,
          "jobs that found a free slot");
      report.check(
          "job finished → runner and compute gone p50",
          Report.ms(teardown.p50()),
          "≤ 250 ms",
          teardown.p50() <= 250,
          null);
      report.check(
          "every runner finished, nothing left", clean ? "yes" : "no", "nothing left", clean, null);
    }
    return report;
  }

  private static Instant at(RunnerStatus s, RunnerPhase phase) {
    for (RunnerStatus.PhaseChange c : s.history()) {
      if (c.phase() == phase) {
        return c.at();
      }
    }
    return null;
  }

  private static int pods(App app) {
    return app.optionalBean(SandboxCluster.class)
        .map(
            c ->
                c.inventory().stream()
                    .mapToInt(
                        ns ->
                            (int) ns.objects().stream().filter(o -> o.kind().equals("Pod")).count())
                    .sum())
        .orElse(0);
  }

  /**
   * Plays GitLab: a runner that waits gets its job (running, then success), as a job hook each,
   * until every job has finished or the time is up.
   */
  private static void drive(
      WorkflowClient client,
      SandboxGitLab sandbox,
      GitLab gitlab,
      List<Job> all,
      Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<Job> open = new ArrayList<>(all);
    try {
      while (!open.isEmpty() && System.nanoTime() < deadline) {
        ConcurrentLinkedQueue<Job> still = new ConcurrentLinkedQueue<>();
        List<Job> check = open;
        Parallel.run(
            8,
            check.size(),
            i -> {
              Job j = check.get(i);
              if (j.pendingSent == null || !waiting(client, j)) {
                still.add(j);
                return;
              }
              RunnerStatus s =
                  client.newWorkflowStub(RunnerWorkflow.class, j.workflowId()).status();
              long runner = s.runnerId();
              sandbox.setJobStatus(j.project, j.jobId, "running", runner);
              gitlab.job("running-" + j.jobId, GitLab.job(j.project, j.jobId, "running", runner));
              sandbox.setJobStatus(j.project, j.jobId, "success", runner);
              j.finishedSent = Instant.now();
              gitlab.job("success-" + j.jobId, GitLab.job(j.project, j.jobId, "success", runner));
            });
        open = new ArrayList<>(still);
        // Sparing: the figures come from the workflows' own timestamps, and polling harder would
        // only take CPU from the worker being measured.
        Thread.sleep(250);
      }
    } catch (Exception e) {
      throw new IllegalStateException("GitLab driver failed", e);
    }
  }

  private static boolean waiting(WorkflowClient client, Job j) {
    try {
      return "WAITING"
          .equals(
              client
                  .newUntypedWorkflowStub(j.workflowId())
                  .describe()
                  .getTypedSearchAttributes()
                  .get(EphemeraSearchAttributes.PHASE));
    } catch (io.temporal.client.WorkflowNotFoundException e) {
      return false;
    }
  }
}
