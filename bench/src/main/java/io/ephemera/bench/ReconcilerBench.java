package io.ephemera.bench;

import io.ephemera.common.Labels;
import io.ephemera.common.Names;
import io.ephemera.common.TaskQueues;
import io.ephemera.common.WorkflowIds;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.workflow.WorkflowMethod;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.reflect.Method;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One reconcile pass over 1,000, 5,000 and 20,000 managed namespaces in the sandbox cluster: pass
 * time and peak heap for each, and how they grow.
 *
 * <p>The reconciler is not on every build. The seam this benchmark compiles against is the
 * architecture's contract alone: a workflow interface {@code
 * io.ephemera.reconciler.ReconcilerWorkflow} whose {@code @WorkflowMethod} it starts through an
 * untyped stub (type name from the annotation, {@code "Reconciler"} by default), on the task queue
 * named by {@code TaskQueues.RECONCILER} when that exists (else knob {@code task-queue}). A pass
 * ends at the workflow's first timer (the wait before the next pass), its continue-as-new, or its
 * completion. Without the interface the benchmark says so and exits 2.
 */
final class ReconcilerBench implements Benchmark {
  static final String NAME = "reconciler";
  static final String INTERFACE = "io.ephemera.reconciler.ReconcilerWorkflow";
  private final Knobs knobs = new Knobs(NAME);

  record Pass(int namespaces, double millis, long baseHeap, long peakHeap, int left) {}

  @Override
  public Report run() throws Exception {
    Class<?> reconciler;
    try {
      reconciler = Class.forName(INTERFACE);
    } catch (ClassNotFoundException e) {
      throw new CannotRun("reconciler not present on this build (no " + INTERFACE + ")");
    }
    Method method = workflowMethod(reconciler);
    String type =
        Optional.ofNullable(method.getAnnotation(WorkflowMethod.class))
            .map(WorkflowMethod::name)
            .filter(n -> !n.isEmpty())
            .orElse("Reconciler");
    String taskQueue = knobs.string("task-queue", reconcilerTaskQueue());
    List<Integer> sizes = new ArrayList<>();
    for (String s : knobs.string("sizes", "1000,5000,20000").split(",")) {
      sizes.add(Math.max(10, (int) Math.round(Integer.parseInt(s.trim()) * Knobs.scale())));
    }
    Duration timeout = knobs.duration("timeout", Duration.ofMinutes(15));
    Report report = new Report(NAME);
    try (App app =
        App.start(
            NAME,
            // The reaper's grace period, so that the benchmark's orphans are due at once. A
            // property no build reads is harmless.
            Map.of("ephemera.reconciler.grace-period", knobs.string("grace-period", "0s")))) {
      KubernetesClient kubernetes = app.bean(KubernetesClient.class);
      List<Pass> passes = new ArrayList<>();
      for (int n : sizes) {
        seed(kubernetes, n);
        long base = FleetBench.heapAfterGc();
        resetPeaks();
        double millis = pass(app.client, type, taskQueue, method, "bench-reconciler-" + n, timeout);
        long peak = peakHeap();
        int left = managed(kubernetes);
        passes.add(new Pass(n, millis, base, peak, left));
        System.out.printf(
            "reconciler: %d namespaces, pass %.0f ms, peak heap %s%n", n, millis, Report.mib(peak));
        kubernetes.namespaces().withLabel(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE).delete();
      }
      report.table(
          "One pass per size (%s, task queue %s)".formatted(type, taskQueue),
          "managed namespaces",
          "pass time",
          "per namespace",
          "heap before (after GC)",
          "peak heap in pass",
          "left after the pass");
      for (Pass p : passes) {
        report.row(
            p.namespaces(),
            Report.ms(p.millis()),
            Report.ms(p.millis() / p.namespaces()),
            Report.mib(p.baseHeap()),
            Report.mib(p.peakHeap()),
            p.left());
      }
      Pass small = passes.get(0);
      Pass large = passes.get(passes.size() - 1);
      double sizeRatio = large.namespaces() / (double) small.namespaces();
      double timeRatio = large.millis() / small.millis();
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

  private static Method workflowMethod(Class<?> type) throws CannotRun {
    for (Method m : type.getMethods()) {
      if (m.isAnnotationPresent(WorkflowMethod.class)) {
        return m;
      }
    }
    throw new CannotRun(type.getName() + " has no @WorkflowMethod");
  }

  private static String reconcilerTaskQueue() {
    try {
      return (String) TaskQueues.class.getField("RECONCILER").get(null);
    } catch (ReflectiveOperationException e) {
      return TaskQueues.REVIEW_APPS;
    }
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

  private static int managed(KubernetesClient kubernetes) {
    return kubernetes
        .namespaces()
        .withLabel(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
        .list()
        .getItems()
        .size();
  }

  /** Starts one run and answers the time from its start to the end of its first pass. */
  private static double pass(
      WorkflowClient client,
      String type,
      String taskQueue,
      Method method,
      String id,
      Duration timeout)
      throws Exception {
    WorkflowStub stub =
        client.newUntypedWorkflowStub(
            type, WorkflowOptions.newBuilder().setWorkflowId(id).setTaskQueue(taskQueue).build());
    Object[] args = new Object[method.getParameterCount()];
    for (int i = 0; i < args.length; i++) {
      args[i] = defaultArgument(method.getParameterTypes()[i]);
    }
    stub.start(args);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      List<HistoryEvent> events = client.fetchHistory(id).getEvents();
      Instant started = Histories.time(events.get(0));
      for (HistoryEvent e : events) {
        EventType t = e.getEventType();
        if (t == EventType.EVENT_TYPE_TIMER_STARTED
            || t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
            || t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED) {
          stub.terminate("benchmark pass measured");
          return Histories.millis(started, Histories.time(e));
        }
        if (t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED
            || t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED) {
          throw new IllegalStateException(id + " ended without finishing a pass: " + t);
        }
      }
      Thread.sleep(50);
    }
    stub.terminate("benchmark timeout");
    throw new IllegalStateException(id + ": no pass finished within " + timeout);
  }

  /**
   * The input's defaults: a static {@code defaults()}, else a no-argument constructor, else null.
   */
  private static Object defaultArgument(Class<?> type) {
    try {
      return type.getMethod("defaults").invoke(null);
    } catch (ReflectiveOperationException | RuntimeException e) {
      try {
        return type.getConstructor().newInstance();
      } catch (ReflectiveOperationException | RuntimeException e2) {
        return null;
      }
    }
  }

  private static void resetPeaks() {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        pool.resetPeakUsage();
      }
    }
  }

  /** Sum of the heap pools' peaks since the reset: an upper bound of the peak heap. */
  private static long peakHeap() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }
}
