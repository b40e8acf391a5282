package io.ephemera.runner;

import io.ephemera.activity.config.ConfigActivities;
import io.ephemera.activity.slots.RunnerSlotActivities;
import io.ephemera.common.Timers;
import io.temporal.activity.ActivityOptions;
import io.temporal.activity.LocalActivityOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.Promise;
import io.temporal.workflow.SignalExternalWorkflowException;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import org.slf4j.Logger;

/**
 * A FIFO semaphore per project: at most {@code maxConcurrent} runner workflows hold a slot, the
 * others wait in arrival order. Runner workflows reach it through {@link
 * RunnerSlotActivities#acquire} (a signal-with-start) and signal {@code release} when their runner
 * and compute are gone; a slot is granted by signalling the runner's {@code slotGranted}.
 *
 * <p>It finishes by itself after {@link #IDLE_TIMEOUT} without holders or waiters, so a quiet
 * project keeps no workflow open; the next acquire starts a new one. Holders that die without
 * releasing (a terminated runner workflow runs no cleanup) are found by a periodic check and lose
 * their slot.
 */
public class RunnerSlotsWorkflowImpl implements RunnerSlotsWorkflow {
  private static final Logger log = Workflow.getLogger(RunnerSlotsWorkflowImpl.class);

  /** How long the guard stays open with nobody holding or waiting. */
  static final Duration IDLE_TIMEOUT = Duration.ofMinutes(10);

  /** How often holders are checked for being alive, while there are any. */
  static final Duration HOLDER_CHECK_INTERVAL = Duration.ofMinutes(5);

  private final ConfigActivities config =
      Workflow.newLocalActivityStub(
          ConfigActivities.class,
          LocalActivityOptions.newBuilder()
              .setSummary("Read runner settings")
              .setStartToCloseTimeout(Duration.ofSeconds(10))
              .build());

  private final long projectId;
  private final String workflowId;
  private final LinkedHashSet<String> holders = new LinkedHashSet<>();
  private final LinkedHashSet<String> queue = new LinkedHashSet<>();

  /** Set by every signal, so the main loop looks again. */
  private boolean changed;

  private int maxConcurrent;

  @WorkflowInit
  public RunnerSlotsWorkflowImpl(RunnerSlotsRequest request) {
    this.projectId = request.projectId();
    this.workflowId = Workflow.getInfo().getWorkflowId();
    holders.addAll(request.holders());
    queue.addAll(request.queue());
    queue.removeAll(holders);
  }

  @Override
  public void run(RunnerSlotsRequest ignored) {
    maxConcurrent = config.runnerSettings(projectId).maxConcurrent();
    Instant idleSince = null;
    Instant nextHolderCheck = null;
    while (true) {
      // Cleared before anything that may block, so a signal handled meanwhile is not missed.
      changed = false;
      grantFreeSlots();
      Instant now = now();
      Instant wakeAt;
      if (holders.isEmpty() && queue.isEmpty()) {
        nextHolderCheck = null;
        idleSince = idleSince == null ? now : idleSince;
        wakeAt = idleSince.plus(IDLE_TIMEOUT);
        if (!now.isBefore(wakeAt)) {
          // Every signal that reached this run was handled above; one arriving while this
          // completes fails the completion, so the server replays it to this code: none is lost.
          log.info("{}: idle for {}; finishing", workflowId, IDLE_TIMEOUT);
          return;
        }
      } else {
        idleSince = null;
        if (nextHolderCheck == null) {
          nextHolderCheck = now.plus(HOLDER_CHECK_INTERVAL);
        }
        if (!now.isBefore(nextHolderCheck)) {
          releaseDeadHolders();
          nextHolderCheck = now().plus(HOLDER_CHECK_INTERVAL);
          continue;
        }
        wakeAt = nextHolderCheck;
      }
      if (Workflow.getInfo().isContinueAsNewSuggested() && Workflow.isEveryHandlerFinished()) {
        log.info(
            "{}: continuing as new with {} holders, {} queued",
            workflowId,
            holders.size(),
            queue.size());
        Workflow.continueAsNew(
            new RunnerSlotsRequest(projectId, List.copyOf(holders), List.copyOf(queue)));
      }
      Duration wait = Duration.between(now, wakeAt);
      Timers.await(
          wait,
          (holders.isEmpty() && queue.isEmpty() ? "Finish if still idle in " : "Check holders in ")
              + Timers.human(wait),
          () -> changed || Workflow.getInfo().isContinueAsNewSuggested());
    }
  }

  /** Grants slots in arrival order while there is room; a runner that is gone is skipped. */
  private void grantFreeSlots() {
    while (!queue.isEmpty() && (maxConcurrent <= 0 || holders.size() < maxConcurrent)) {
      String next = queue.iterator().next();
      queue.remove(next);
      holders.add(next);
      try {
        Workflow.newExternalWorkflowStub(RunnerWorkflow.class, next).slotGranted();
        log.info("{}: slot granted to {} ({}/{})", workflowId, next, holders.size(), maxConcurrent);
      } catch (ApplicationFailure | SignalExternalWorkflowException e) {
        // The runner closed while it waited (terminated, or gone without releasing). The SDK
        // reports that as an ApplicationFailure of type
        // SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND;
        // left uncaught it would fail this workflow and strand every waiter.
        holders.remove(next);
        log.warn(
            "{}: {} cannot be told ({}); its slot goes to the next",
            workflowId,
            next,
            e.getMessage());
      }
    }
  }

  /**
   * Frees the slots of holders whose workflow is no longer open. A failed lookup frees nothing:
   * only a definite "not running" does.
   */
  private void releaseDeadHolders() {
    List<String> checked = List.copyOf(holders);
    List<Promise<Boolean>> running = new ArrayList<>(checked.size());
    for (String holder : checked) {
      RunnerSlotActivities check =
          Workflow.newActivityStub(
              RunnerSlotActivities.class,
              ActivityOptions.newBuilder().setSummary("Is " + holder + " still running?").build());
      running.add(Async.function(check::isRunning, holder));
    }
    for (int i = 0; i < checked.size(); i++) {
      String holder = checked.get(i);
      try {
        if (!running.get(i).get() && holders.remove(holder)) {
          log.warn("{}: {} closed without releasing its slot; freed", workflowId, holder);
        }
      } catch (ActivityFailure e) {
        log.warn(
            "{}: could not check {}; trying again later: {}", workflowId, holder, e.getMessage());
      }
    }
  }

  @Override
  public void acquire(String runnerWorkflowId) {
    changed = true;
    if (runnerWorkflowId == null || holders.contains(runnerWorkflowId)) {
      return;
    }
    if (queue.add(runnerWorkflowId)) {
      log.info("{}: {} queued for a slot", workflowId, runnerWorkflowId);
    }
  }

  @Override
  public void release(String runnerWorkflowId) {
    changed = true;
    if (holders.remove(runnerWorkflowId)) {
      log.info("{}: {} released its slot", workflowId, runnerWorkflowId);
    } else if (queue.remove(runnerWorkflowId)) {
      log.info("{}: {} left the queue", workflowId, runnerWorkflowId);
    }
  }

  @Override
  public List<String> holders() {
    return List.copyOf(holders);
  }

  @Override
  public List<String> queue() {
    return List.copyOf(queue);
  }

  private static Instant now() {
    return Instant.ofEpochMilli(Workflow.currentTimeMillis());
  }
}
