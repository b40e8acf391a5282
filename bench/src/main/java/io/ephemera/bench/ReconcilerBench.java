package io.ephemera.bench;

import io.ephemera.activity.reconciler.KindReport;
import io.ephemera.activity.reconciler.PassReport;
import io.ephemera.activity.reconciler.ResourceKinds;
import io.ephemera.common.Labels;
import io.ephemera.common.Names;
import io.ephemera.common.WorkflowIds;
import io.ephemera.reconciler.ReconcilerStatus;
import io.ephemera.reconciler.ReconcilerWorkflow;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One reconcile pass over 1,000, 5,000 and 20,000 managed namespaces in the sandbox cluster: pass
 * time and peak heap for each, and how they grow.
 *
 * <p>It drives the application's own reconciler (id {@value ReconcilerWorkflow#ID}, started by the
 * worker): the interval is an hour so that only the benchmark's {@code passNow} signals start
 * passes, and the pass time is the one the reconciler reports ({@code status().lastPass()}). The
 * namespaces are orphans (owners that never existed) older than the grace (one second, waited out),
 * and the pass runs in dry-run mode: it pages through every namespace and asks Temporal about every
 * owner, as a real pass does, but deletes nothing, so each size is measured over exactly N
 * namespaces rather than N minus what the previous pass reaped (reaping is capped per pass by
 * {@code ephemera.reconciler.max-reaps-per-pass} in any case).
 */
final class ReconcilerBench implements Benchmark {
  static final String NAME = "reconciler";
  private final Knobs knobs = new Knobs(NAME);

  record Pass(int namespaces, double millis, long baseHeap, long peakHeap, long found) {}

  @Override
  public Report run() throws Exception {
    List<Integer> sizes = new ArrayList<>();
    for (String s : knobs.string("sizes", "1000,5000,20000").split(",")) {
      sizes.add(Math.max(10, (int) Math.round(Integer.parseInt(s.trim()) * Knobs.scale())));
    }
    Duration timeout = knobs.duration("timeout", Duration.ofMinutes(15));
    Report report = new Report(NAME);
    try (App app =
        App.start(
            NAME,
            Map.of(
                // Only the benchmark's signals start passes.
                "ephemera.reconciler.interval", "1h",
                "ephemera.reconciler.jitter", "0s",
                // The shortest grace allowed; the benchmark waits it out after seeding.
                "ephemera.reconciler.grace", "1s",
                "ephemera.reconciler.dry-run", "true"))) {
      KubernetesClient kubernetes = app.bean(KubernetesClient.class);
      ReconcilerWorkflow reconciler =
          app.client.newWorkflowStub(ReconcilerWorkflow.class, ReconcilerWorkflow.ID);
      awaitPasses(reconciler, 1, timeout);
      List<Pass> passes = new ArrayList<>();
      for (int n : sizes) {
        seed(kubernetes, n);
        Thread.sleep(1_100); // past the grace: every seeded namespace is an orphan due for reaping
        long base = FleetBench.heapAfterGc();
        // Timed pass: nothing else runs in the process.
        long before = reconciler.status().passes();
        reconciler.passNow();
        PassReport last = awaitPasses(reconciler, before + 1, timeout).lastPass();
        // Heap pass: the same pass again while a sampler collects garbage every 200 ms and keeps
        // the largest heap left after a collection, i.e. what the pass really holds. (Peak pool
        // usage would measure allocation volume: with a 2 GiB heap, garbage piles up unswept.)
        long peak;
        try (LiveHeapSampler sampler = LiveHeapSampler.start(Duration.ofMillis(200))) {
          reconciler.passNow();
          awaitPasses(reconciler, before + 2, timeout);
          peak = sampler.max();
        }
        KindReport namespaces = last.kinds().get(ResourceKinds.NAMESPACE);
        long found = namespaces == null ? -1 : namespaces.found();
        passes.add(new Pass(n, last.durationMillis(), base, peak, found));
        System.out.printf(
            "reconciler: %d namespaces, pass %d ms, %d orphans found, live heap %s, errors %s%n",
            n, last.durationMillis(), found, Report.mib(peak), last.errors());
        kubernetes.namespaces().withLabel(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE).delete();
      }
      report.table(
          "One dry-run pass per size (the reconciler's own pass time)",
          "managed namespaces",
          "pass time",
          "per namespace",
          "heap before (after GC)",
          "peak live heap in pass",
          "orphans found");
      for (Pass p : passes) {
        report.row(
            p.namespaces(),
            Report.ms(p.millis()),
            Report.ms(p.millis() / p.namespaces()),
            Report.mib(p.baseHeap()),
            Report.mib(p.peakHeap()),
            p.found());
      }
      Pass small = passes.get(0);
      Pass large = passes.get(passes.size() - 1);
      double sizeRatio = large.namespaces() / (double) small.namespaces();
      double timeRatio = large.millis() / Math.max(1, small.millis());
      double extraSmall = Math.max(1, small.peakHeap() - small.baseHeap());
      double extraLarge = Math.max(1, large.peakHeap() - large.baseHeap());
      report.note(
          "Growth from %d to %d namespaces (×%s): time ×%s, heap used by the pass ×%s."
              .formatted(
                  small.namespaces(),
                  large.namespaces(),
                  Report.num(sizeRatio),
                  Report.num(timeRatio),
                  Report.num(extraLarge / extraSmall)));
      report.check(
          "every orphan seen",
          passes.stream().map(p -> p.found() + "/" + p.namespaces()).toList().toString(),
          "found = N at every size",
          passes.stream().allMatch(p -> p.found() == p.namespaces()),
          null);
      report.check(
          "pass time linear in N",
          "×" + Report.num(timeRatio) + " for ×" + Report.num(sizeRatio),
          "≤ 1.5 × the growth of N",
          timeRatio <= 1.5 * sizeRatio,
          null);
      report.check(
          "bounded heap",
          "×" + Report.num(extraLarge / extraSmall),
          "pass's extra heap at the largest N ≤ 2 × at the smallest",
          extraLarge <= 2 * extraSmall,
          "paging keeps one page in memory, whatever N");
    }
    return report;
  }

  private static ReconcilerStatus awaitPasses(
      ReconcilerWorkflow reconciler, long passes, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        ReconcilerStatus status = reconciler.status();
        if (status.passes() >= passes && !status.passing() && status.lastPass() != null) {
          return status;
        }
      } catch (RuntimeException e) {
        // Not started yet, or between runs (continue-as-new): ask again.
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("the reconciler did not finish pass " + passes + " in time");
  }

  /** N namespaces as Ephemera labels them, owned by review apps that never existed (orphans). */
  private static void seed(KubernetesClient kubernetes, int n) throws Exception {
    Parallel.run(
        8,
        n,
        i -> {
          String owner = WorkflowIds.reviewApp(99_999, i + 1);
          kubernetes
              .namespaces()
              .resource(
                  new NamespaceBuilder()
                      .withNewMetadata()
                      .withName("review-99999-bench-mr-" + (i + 1))
                      .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
                      .addToLabels(Labels.KIND, Labels.KIND_REVIEW_APP)
                      .addToLabels(Labels.WORKFLOW_ID, Names.labelValue(owner))
                      .addToAnnotations(Labels.WORKFLOW_ID_ANNOTATION, owner)
                      .endMetadata()
                      .build())
              .create();
        });
  }

  /** A thread that collects garbage periodically and records the largest heap left after. */
  private static final class LiveHeapSampler implements AutoCloseable {
    private final Thread thread;
    private volatile long max;
    private volatile boolean stop;

    private LiveHeapSampler(Duration period) {
      thread =
          Thread.ofPlatform()
              .daemon()
              .name("live-heap-sampler")
              .unstarted(
                  () -> {
                    try {
                      while (!stop) {
                        max = Math.max(max, FleetBench.heapAfterGc());
                        Thread.sleep(period);
                      }
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  });
    }

    static LiveHeapSampler start(Duration period) {
      LiveHeapSampler s = new LiveHeapSampler(period);
      s.thread.start();
      return s;
    }

    long max() {
      return max;
    }

    @Override
    public void close() throws InterruptedException {
      stop = true;
      thread.join();
    }
  }
}
