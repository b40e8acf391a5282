package io.ephemera.worker.config;

import io.ephemera.activity.reconciler.ReconcilerProperties;
import io.ephemera.common.TaskQueues;
import io.ephemera.reconciler.ReconcilerRequest;
import io.ephemera.reconciler.ReconcilerWorkflow;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Keeps the one reconciler running: starts it once the worker polls, and checks again every
 * interval, so a reconciler that was terminated (or failed) is started afresh. The start is
 * idempotent (conflict policy USE_EXISTING), so every worker replica may do this; Temporal keeps
 * one. No Schedules: the embedded Temporal server has none.
 */
public class ReconcilerStarter implements SmartLifecycle {
  private static final Logger log = LoggerFactory.getLogger(ReconcilerStarter.class);

  private final WorkflowClient client;
  private final ReconcilerProperties properties;
  private ScheduledExecutorService executor;
  private volatile boolean running;

  public ReconcilerStarter(WorkflowClient client, ReconcilerProperties properties) {
    this.client = client;
    this.properties = properties;
  }

  /** Starts the reconciler unless it runs; answers whether this call started it. */
  public boolean ensureStarted() {
    ReconcilerWorkflow workflow =
        client.newWorkflowStub(
            ReconcilerWorkflow.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(ReconcilerWorkflow.ID)
                .setTaskQueue(TaskQueues.RECONCILER)
                .setWorkflowIdConflictPolicy(
                    WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
                // A closed reconciler (terminated, failed, disabled once) is started again.
                .setWorkflowIdReusePolicy(
                    WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
                .setStaticSummary("Ephemera reconciler: repairs missed webhooks, reaps orphans")
                .build());
    String runId = WorkflowClient.start(workflow::run, ReconcilerRequest.first()).getRunId();
    return runId != null && !runId.isEmpty();
  }

  @Override
  public void start() {
    running = true;
    if (!properties.enabled()) {
      log.info("The reconciler is disabled (ephemera.reconciler.enabled=false)");
      return;
    }
    executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "ephemera-reconciler-starter");
              t.setDaemon(true);
              return t;
            });
    long period = properties.interval().toMillis();
    executor.scheduleWithFixedDelay(this::check, 0, period, TimeUnit.MILLISECONDS);
  }

  private void check() {
    try {
      ensureStarted();
      log.debug("Reconciler {} is running", ReconcilerWorkflow.ID);
    } catch (RuntimeException e) {
      // Temporal unreachable: the next check tries again; the worker itself is unaffected.
      log.warn("Could not make sure the reconciler runs: {}", e.toString());
    }
  }

  @Override
  public void stop() {
    if (executor != null) {
      executor.shutdownNow();
    }
    running = false;
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  /** After the worker has started polling, before it stops. */
  @Override
  public int getPhase() {
    return SmartLifecycle.DEFAULT_PHASE - 512;
  }
}
