package io.ephemera.bench;

import io.ephemera.common.EphemeraSearchAttributes;
import io.ephemera.common.WorkflowIds;
import io.ephemera.reviewapp.ReviewAppWorkflow;
import io.temporal.client.WorkflowClient;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * As many live review apps as one worker holds, up to 10,000, with virtual workflow threads: heap
 * after GC, live threads, p99 {@code status()} latency at that size, and bytes per environment.
 *
 * <p>The worker's workflow cache is sized above the fleet ({@code
 * ephemera.worker.workflow-cache-size}, knob {@code cache}): a review app outside the cache replays
 * its whole history for every {@code status()} query, so what is measured is a worker that holds
 * every app it serves. The heap is the whole process: the worker's cached workflows, but also the
 * embedded Temporal server's histories and the sandbox cluster's and GitLab's objects, which a
 * production worker does not hold.
 */
final class FleetBench implements Benchmark {
  static final String NAME = "fleet";
  static final long PROJECT = 9100;
  private final Knobs knobs = new Knobs(NAME);

  record Step(int apps, long heapAfterGc, int threads, double seconds) {}

  @Override
  public Report run() throws Exception {
    int max = knobs.count("apps", 10_000, 10);
    int step = knobs.count("step", 1_000, 5);
    int cache = knobs.integer("cache", Math.max(600, max + max / 20));
    int concurrency = knobs.integer("concurrency", 16);
    int samples = knobs.count("status-samples", 1_000, 20);
    long heapCeiling = (long) (Runtime.getRuntime().maxMemory() * 0.85);
    Duration readyTimeout = knobs.duration("ready-timeout", Duration.ofMinutes(20));
    Report report = new Report(NAME);
    try (App app =
        App.start(
            NAME,
            Map.of(
                "ephemera.worker.virtual-threads",
                "true",
                "ephemera.worker.workflow-cache-size",
                Integer.toString(cache)))) {
      GitLab gitlab = new GitLab(app);
      for (int i = 1; i <= 3; i++) {
        LifecycleBench.life(app, gitlab, PROJECT - 1, i, Duration.ofMinutes(2));
      }
      long baseline = heapAfterGc();
      int baseThreads = ManagementFactory.getThreadMXBean().getThreadCount();
      List<Step> steps = new ArrayList<>();
      int live = 0;
      String stoppedBecause = "reached " + max;
      long started = System.nanoTime();
      while (live < max) {
        int from = live + 1;
        int to = Math.min(max, live + step);
        AtomicInteger failed = new AtomicInteger();
        Parallel.run(
            concurrency,
            to - from + 1,
            i -> {
              long iid = from + i;
              GitLab.Answer a =
                  gitlab.mergeRequest(
                      "fleet-" + iid,
                      GitLab.mergeRequest(PROJECT, iid, "open", GitLab.sha(PROJECT, iid, 0), null));
              if (a.status() != 202) {
                failed.incrementAndGet();
              }
            });
        if (failed.get() > 0) {
          stoppedBecause = failed.get() + " deliveries refused at " + to;
          break;
        }
        List<String> notReady = awaitReady(app.client, from, to, readyTimeout);
        if (!notReady.isEmpty()) {
          stoppedBecause = notReady.size() + " apps not READY within " + readyTimeout + " at " + to;
          break;
        }
        live = to;
        long heap = heapAfterGc();
        Step s =
            new Step(
                live,
                heap,
                ManagementFactory.getThreadMXBean().getThreadCount(),
                (System.nanoTime() - started) / 1e9);
        steps.add(s);
        System.out.printf(
            "fleet: %d live, heap after GC %s, %d threads, %.0f s%n",
            live, Report.mib(heap), s.threads(), s.seconds());
        if (heap > heapCeiling) {
          stoppedBecause = "heap after GC above 85% of -Xmx at " + live;
          break;
        }
      }
      Stats status = statusLatency(app.client, live, samples);

      report.table(
          "Live review apps (cache %d, virtual workflow threads)".formatted(cache),
          "live apps",
          "heap after GC",
          "per app (above baseline)",
          "live platform threads",
          "elapsed");
      report.row(0, Report.mib(baseline), "–", baseThreads, "–");
      for (Step s : steps) {
        report.row(
            s.apps(),
            Report.mib(s.heapAfterGc()),
            kib((s.heapAfterGc() - baseline) / Math.max(1, s.apps())),
            s.threads(),
            Report.num(s.seconds()) + " s");
      }
      report.note(
          "Stopped: "
              + stoppedBecause
              + ". -Xmx "
              + Report.mib(Runtime.getRuntime().maxMemory())
              + ".");
      report
          .table(
              "status() query at %d live apps (%d random apps, 4 at a time)"
                  .formatted(live, samples),
              "p50",
              "p99",
              "max")
          .row(Report.ms(status.p50()), Report.ms(status.p99()), Report.ms(status.max()));
      long heap = steps.isEmpty() ? baseline : steps.get(steps.size() - 1).heapAfterGc();
      report.check(
          "live environments in ≤ 2 GiB heap",
          live + " (heap after GC " + Report.mib(heap) + ")",
          "≥ 10,000",
          live >= 10_000 && heap <= 2L * 1024 * 1024 * 1024,
          max < 10_000 ? "run at reduced size (" + max + ")" : null);
      report.check(
          "status() p99 at " + live,
          Report.ms(status.p99()),
          "reported",
          null,
          "no target in the issue");
    }
    return report;
  }

  private static String kib(long bytes) {
    return Report.num(bytes / 1024.0) + " KiB";
  }

  static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static List<String> awaitReady(WorkflowClient client, int from, int to, Duration timeout)
      throws Exception {
    List<String> pending = new ArrayList<>();
    for (long iid = from; iid <= to; iid++) {
      pending.add(WorkflowIds.reviewApp(PROJECT, iid));
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!pending.isEmpty() && System.nanoTime() < deadline) {
      ConcurrentLinkedQueue<String> still = new ConcurrentLinkedQueue<>();
      List<String> check = pending;
      Parallel.run(
          8,
          check.size(),
          i -> {
            String phase =
                client
                    .newUntypedWorkflowStub(check.get(i))
                    .describe()
                    .getTypedSearchAttributes()
                    .get(EphemeraSearchAttributes.PHASE);
            if (!"READY".equals(phase)) {
              still.add(check.get(i));
            }
          });
      pending = new ArrayList<>(still);
      if (!pending.isEmpty()) {
        Thread.sleep(1000);
      }
    }
    return pending;
  }

  /** {@code status()} of random live apps through the worker, as the REST API asks it. */
  private static Stats statusLatency(WorkflowClient client, int live, int samples)
      throws Exception {
    if (live == 0) {
      return Stats.of(new double[0]);
    }
    Random random = new Random(42);
    long[] iids = new long[samples];
    for (int i = 0; i < samples; i++) {
      iids[i] = 1 + random.nextInt(live);
    }
    double[] millis = new double[samples];
    Parallel.run(
        4,
        samples,
        i -> {
          ReviewAppWorkflow wf =
              client.newWorkflowStub(
                  ReviewAppWorkflow.class, WorkflowIds.reviewApp(PROJECT, iids[i]));
          long t = System.nanoTime();
          wf.status();
          millis[i] = (System.nanoTime() - t) / 1e6;
        });
    return Stats.of(millis);
  }
}
