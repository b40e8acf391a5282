package io.ephemera.runner;

import io.ephemera.activity.compute.ComputeActivities;
import io.ephemera.activity.compute.ComputeRef;
import io.ephemera.activity.compute.ProvisionRequest;
import io.ephemera.activity.compute.TerminateRequest;
import io.ephemera.activity.config.ConfigActivities;
import io.ephemera.activity.config.RunnerSettings;
import io.ephemera.activity.gitlab.CreateRunnerRequest;
import io.ephemera.activity.gitlab.DeleteRunnerRequest;
import io.ephemera.activity.gitlab.GitLabRunnerActivities;
import io.ephemera.activity.gitlab.JobState;
import io.ephemera.activity.gitlab.RegisteredRunner;
import io.ephemera.activity.slots.RunnerSlotActivities;
import io.ephemera.common.EphemeraSearchAttributes;
import io.ephemera.common.Labels;
import io.ephemera.common.Persistently;
import io.ephemera.common.Timers;
import io.ephemera.common.WorkflowIds;
import io.temporal.activity.ActivityOptions;
import io.temporal.activity.LocalActivityOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.SignalExternalWorkflowException;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;

/**
 * One single-use GitLab runner for one pending job, as a saga: register the runner ⇄ delete it,
 * provision compute ⇄ terminate it and wait until it is gone. Each compensation is registered
 * before its step and all of them run in reverse, in a detached scope, however the workflow ends:
 * the runner ran a job, the job was cancelled before pickup, idle, maximum lifetime, {@code stop},
 * a failed step, or cancellation of the workflow itself.
 *
 * <p>A GitLab runner takes any job matching its tags, so the job it runs may not be the one it was
 * made for: job events are keyed on the runner id. Job Hooks are hints; when they get lost, polling
 * the Jobs API with backoff finds the same facts.
 *
 * <p>Activity options (timeouts, retries) are not set here: the worker registers this
 * implementation with options built from {@code ephemera.activities.*}.
 */
public class RunnerWorkflowImpl implements RunnerWorkflow {
  private static final Logger log = Workflow.getLogger(RunnerWorkflowImpl.class);

  private static final Duration FIRST_COMPENSATION_BACKOFF = Duration.ofSeconds(10);
  private static final Duration MAX_COMPENSATION_BACKOFF = Duration.ofMinutes(5);

  private final ConfigActivities config =
      Workflow.newLocalActivityStub(
          ConfigActivities.class,
          LocalActivityOptions.newBuilder()
              .setSummary("Read runner settings")
              .setStartToCloseTimeout(Duration.ofSeconds(10))
              .build());

  private final RunnerRequest request;
  private final String workflowId;
  private final Instant createdAt;
  private final List<RunnerStatus.PhaseChange> history = new ArrayList<>();

  /** Compensations, newest first: popping runs them in reverse order of their steps. */
  private final Deque<Runnable> compensations = new ArrayDeque<>();

  private RunnerSettings settings;
  private RunnerPhase phase = RunnerPhase.QUEUED;
  private Long runnerId;
  private String computeId;
  private Long ranJobId;
  private String outcome;
  private String lastError;
  private Instant finishedAt;

  // Facts learned from signals and polls; the main flow acts on them.
  private boolean slotGranted;
  private String stopReason;
  private JobEvent finishedOnRunner;
  private String ownJobEndedBeforePickup;
  private Long ownJobTakenBy;

  private String endReason;
  private boolean failed;
  private boolean slotRequested;
  private boolean setupCancelled;
  private Promise<Void> setup;
  private String step;
  private Instant lifeStartedAt;
  private Instant nextPollAt;
  private Duration pollInterval;

  @WorkflowInit
  public RunnerWorkflowImpl(RunnerRequest request) {
    this.request = request;
    this.workflowId = Workflow.getInfo().getWorkflowId();
    this.createdAt = now();
  }

  @Override
  public RunnerStatus run(RunnerRequest ignored) {
    Workflow.upsertTypedSearchAttributes(
        EphemeraSearchAttributes.KIND.valueSet(Labels.KIND_RUNNER),
        EphemeraSearchAttributes.PROJECT_ID.valueSet(request.projectId()),
        EphemeraSearchAttributes.JOB_ID.valueSet(request.jobId()));
    try {
      settings = config.runnerSettings(request.projectId());
      pollInterval = settings.pollInterval();
      schedulePoll();
      if (request.route() == null) {
        // Intake never starts a runner without a route; a hand-made start gets a clear answer.
        fail("the request has no route");
      } else {
        if (settings.maxConcurrent() > 0 && !checkEnd()) {
          awaitSlot();
        }
        if (!checkEnd()) {
          setUp();
        }
        if (!checkEnd()) {
          waitForJob();
        }
      }
    } catch (CanceledFailure e) {
      end("workflow cancelled", "cancelled");
    }
    // Detached: compensations must run to the end even while the workflow is being cancelled.
    Workflow.newDetachedCancellationScope(this::cleanUp).run();
    return status();
  }

  /** Waits in line for one of the project's runner slots. */
  private void awaitSlot() {
    phase(
        RunnerPhase.QUEUED,
        "waiting for one of " + settings.maxConcurrent() + " runner slots of the project");
    slotRequested = true;
    Duration backoff = FIRST_COMPENSATION_BACKOFF;
    while (true) {
      try {
        slots("Ask project " + request.projectId() + " for a runner slot")
            .acquire(request.projectId(), workflowId);
        break;
      } catch (ActivityFailure e) {
        if (e.getCause() instanceof CanceledFailure c) {
          throw c; // the workflow itself is being cancelled
        }
        // Giving up would leave the job without a runner; a stop or the job's end still wins.
        lastError = "asking for a slot failed, retrying: " + describe(e);
        log.warn("{}: {}", workflowId, lastError);
        if (Timers.await(
            backoff, "Ask for a runner slot again in " + human(backoff), this::endRequested)) {
          return;
        }
        backoff = backoff.multipliedBy(2);
        if (backoff.compareTo(MAX_COMPENSATION_BACKOFF) > 0) {
          backoff = MAX_COMPENSATION_BACKOFF;
        }
      }
    }
    lastError = null;
    awaitWithPolls(() -> slotGranted || endRequested(), null);
  }

  /**
   * Registers the runner and provisions its compute. A stop, or the job ending before pickup,
   * cancels what is in flight; activities are cancelled with WAIT_CANCELLATION_COMPLETED, so
   * nothing is still starting when the compensations run.
   */
  private void setUp() {
    lifeStartedAt = now();
    CancellationScope scope =
        Workflow.newCancellationScope(() -> setup = Async.procedure(this::registerAndProvision));
    scope.run();
    Workflow.await(() -> setup.isCompleted() || endRequested());
    if (!setup.isCompleted()) {
      setupCancelled = true;
      scope.cancel("runner no longer wanted");
    }
    try {
      setup.get();
    } catch (ActivityFailure e) {
      if (setupCancelled) {
        log.info("{}: {} cancelled, the runner is no longer wanted", workflowId, step);
      } else if (e.getCause() instanceof CanceledFailure c) {
        throw c; // the workflow itself is being cancelled
      } else {
        fail(step + " failed: " + describe(e));
      }
    } catch (CanceledFailure e) {
      if (!setupCancelled) {
        throw e;
      }
      log.info("{}: {} cancelled, the runner is no longer wanted", workflowId, step);
    }
  }

  private void registerAndProvision() {
    long projectId = request.projectId();
    phase(RunnerPhase.REGISTERING, "registering a GitLab runner with tags " + request.tags());
    compensations.push(
        () ->
            untilDone(
                "delete runner",
                () ->
                    gitlab("Delete the GitLab runner")
                        .deleteRunner(new DeleteRunnerRequest(projectId, workflowId))));
    step = "runner registration";
    RegisteredRunner registered =
        gitlab("Register a runner for job " + request.jobId())
            .createRunner(
                new CreateRunnerRequest(
                    projectId, workflowId, request.tags(), settings.jobTimeoutSeconds()));
    runnerId = registered.runnerId();

    RunnerRoute route = request.route();
    phase(
        RunnerPhase.PROVISIONING,
        "runner " + runnerId + " registered; starting " + route.type() + " compute");
    TerminateRequest terminate = new TerminateRequest(workflowId, route.type());
    compensations.push(() -> terminateAndWait(terminate));
    step = "provisioning";
    ComputeRef ref =
        compute("Start " + request.route().type() + " compute (" + request.route().name() + ")")
            .provision(
                new ProvisionRequest(
                    workflowId,
                    projectId,
                    request.jobId(),
                    route,
                    runnerId,
                    registered.tokenRef(),
                    (int) settings.waitTimeout().toSeconds()));
    computeId = ref.id();
  }

  /**
   * Waits until the runner has run a job, the job is cancelled before pickup, the runner is idle,
   * its maximum lifetime is reached, or {@code stop}, polling GitLab meanwhile.
   */
  private void waitForJob() {
    phase(RunnerPhase.WAITING, "compute " + computeId + " started; waiting for a job");
    // Polling restarts at its shortest interval: a backoff grown in the queue would blunt it.
    pollInterval = settings.pollInterval();
    schedulePoll();
    Instant idleAt = now().plus(settings.waitTimeout());
    Duration lifetime =
        request.route().maxLifetime() != null
            ? request.route().maxLifetime()
            : settings.maxLifetime();
    Instant lifetimeEndsAt = lifeStartedAt.plus(lifetime);
    while (!checkEnd()) {
      if (ranJobId != null && phase == RunnerPhase.WAITING) {
        phase(RunnerPhase.RUNNING, "job " + ranJobId + " started on runner " + runnerId);
      }
      Instant deadline =
          ranJobId == null && idleAt.isBefore(lifetimeEndsAt) ? idleAt : lifetimeEndsAt;
      awaitWithPolls(
          () -> endRequested() || (ranJobId != null && phase == RunnerPhase.WAITING), deadline);
      if (endRequested() || (ranJobId != null && phase == RunnerPhase.WAITING)) {
        continue;
      }
      Instant now = now();
      if (!now.isBefore(lifetimeEndsAt)) {
        end("maximum lifetime of " + human(lifetime) + " reached", "maximum lifetime reached");
      } else if (ranJobId == null && !now.isBefore(idleAt)) {
        // The webhook saying a job started may be the one that got lost: look before calling
        // the runner idle, and when GitLab cannot answer, look again at the next poll.
        if (!pollRunnerJobs()) {
          idleAt = nextPollAt;
        } else if (ranJobId == null && !endRequested()) {
          end("idle: no job picked up within " + human(settings.waitTimeout()), "idle");
        }
      }
    }
  }

  /**
   * Waits until {@code until} holds or {@code deadline} passes (none when null), asking GitLab on
   * the backoff schedule in between. Signals wake the wait at once.
   */
  private void awaitWithPolls(BooleanSupplier until, Instant deadline) {
    while (!until.getAsBoolean()) {
      Instant now = now();
      if (deadline != null && !now.isBefore(deadline)) {
        return;
      }
      if (!now.isBefore(nextPollAt)) {
        poll();
        continue;
      }
      Instant wakeAt = deadline != null && deadline.isBefore(nextPollAt) ? deadline : nextPollAt;
      Duration wait = Duration.between(now, wakeAt);
      Timers.await(
          wait,
          wakeAt.equals(deadline)
              ? "Give up waiting in " + human(wait)
              : "Ask GitLab about the job in " + human(wait),
          until::getAsBoolean);
    }
  }

  /** The safety net for lost webhooks: what GitLab says about the runner and the job. */
  private void poll() {
    pollRunnerJobs();
    if (ranJobId == null && ownJobEndedBeforePickup == null) {
      try {
        JobState own =
            gitlab("Poll job " + request.jobId()).jobState(request.projectId(), request.jobId());
        if (own != null) {
          observe(new JobEvent(own.jobId(), own.status(), own.runnerId()));
        }
      } catch (ActivityFailure e) {
        log.warn("{}: job lookup failed, trying at the next poll: {}", workflowId, describe(e));
      }
    }
  }

  /**
   * Asks GitLab which jobs the runner has taken and schedules the next poll; answers whether GitLab
   * answered (trivially yes before the runner exists).
   */
  private boolean pollRunnerJobs() {
    boolean answered = true;
    if (runnerId != null) {
      try {
        List<JobState> jobs = gitlab("Poll jobs of runner " + runnerId).runnerJobs(runnerId);
        for (JobState job : jobs == null ? List.<JobState>of() : jobs) {
          observe(
              new JobEvent(
                  job.jobId(), job.status(), job.runnerId() != null ? job.runnerId() : runnerId));
        }
      } catch (ActivityFailure e) {
        answered = false;
        log.warn(
            "{}: runner {} jobs lookup failed, trying at the next poll: {}",
            workflowId,
            runnerId,
            describe(e));
      }
    }
    schedulePoll();
    return answered;
  }

  /** The next poll comes after the current interval, which doubles up to the maximum. */
  private void schedulePoll() {
    nextPollAt = now().plus(pollInterval);
    pollInterval = pollInterval.multipliedBy(2);
    if (pollInterval.compareTo(settings.maxPollInterval()) > 0) {
      pollInterval = settings.maxPollInterval();
    }
  }

  /**
   * Takes in one fact about a job, from a signal or a poll. Events on this workflow's runner decide
   * what the runner did, whatever job it was; events about this workflow's own job on no runner
   * tell whether it ended before pickup.
   */
  private void observe(JobEvent event) {
    if (event == null || event.status() == null) {
      return;
    }
    if (runnerId != null && runnerId.equals(event.runnerId())) {
      if (ranJobId == null) {
        ranJobId = event.jobId();
      }
      if (event.finished() && finishedOnRunner == null) {
        finishedOnRunner = event;
      }
      return;
    }
    if (event.jobId() != request.jobId()) {
      log.info(
          "{}: ignoring job {} ({}) on runner {}: not this workflow's runner",
          workflowId,
          event.jobId(),
          event.status(),
          event.runnerId());
      return;
    }
    if (event.runnerId() == null) {
      if (event.finished() && ownJobEndedBeforePickup == null) {
        ownJobEndedBeforePickup = event.status();
      }
    } else if (ownJobTakenBy == null) {
      // Another runner with the same tags took this job. A sibling job with the same tags may
      // still be pending and need this runner, so it keeps waiting (the idle timeout bounds it).
      ownJobTakenBy = event.runnerId();
      log.info(
          "{}: job {} was taken by runner {}; runner {} waits for another matching job",
          workflowId,
          event.jobId(),
          event.runnerId(),
          runnerId);
    }
  }

  /** Whether something has happened that ends the runner; free of side effects, for conditions. */
  private boolean endRequested() {
    return endReason != null
        || finishedOnRunner != null
        || stopReason != null
        || (ownJobEndedBeforePickup != null && ranJobId == null);
  }

  /** Settles why the runner ends, once, from the facts; answers whether it ends. */
  private boolean checkEnd() {
    if (endReason != null) {
      return true;
    }
    if (finishedOnRunner != null) {
      ranJobId = finishedOnRunner.jobId();
      end(
          "job " + ranJobId + " finished on runner " + runnerId + ": " + finishedOnRunner.status(),
          finishedOnRunner.status());
    } else if (stopReason != null) {
      end("stopped: " + stopReason, "stopped");
    } else if (ownJobEndedBeforePickup != null && ranJobId == null) {
      end(
          "job " + request.jobId() + " " + ownJobEndedBeforePickup + " before pickup",
          ownJobEndedBeforePickup + " before pickup");
    }
    return endReason != null;
  }

  private void end(String reason, String outcome) {
    if (endReason == null) {
      endReason = reason;
      this.outcome = outcome;
      log.info("{}: ending: {}", workflowId, reason);
    }
  }

  private void fail(String error) {
    failed = true;
    lastError = error;
    log.warn("{}: {}", workflowId, error);
    end(error, "failed");
  }

  /**
   * Runs the compensations in reverse, then gives the slot back. Whatever was provisioned is gone
   * before the slot goes to the next runner.
   */
  private void cleanUp() {
    if (setup != null && !setup.isCompleted()) {
      // A cancelled step may still be stopping; compensating meanwhile could race it.
      Workflow.await(setup::isCompleted);
    }
    checkEnd();
    String error = lastError;
    if (!compensations.isEmpty()) {
      phase(RunnerPhase.DRAINING, endReason);
      while (!compensations.isEmpty()) {
        compensations.pop().run();
      }
    }
    // Compensation errors were overcome (they finished); a setup error still explains the end.
    lastError = error;
    if (slotRequested) {
      releaseSlot();
    }
    finishedAt = now();
    phase(failed ? RunnerPhase.FAILED : RunnerPhase.FINISHED, endReason);
  }

  private void terminateAndWait(TerminateRequest terminate) {
    untilDone("terminate compute", () -> compute("Terminate compute").terminate(terminate));
    while (!untilDone(
        "wait for compute to terminate",
        () -> compute("Wait for compute to terminate").awaitTerminated(terminate))) {
      Timers.sleep(
          FIRST_COMPENSATION_BACKOFF,
          "Check the compute again in " + human(FIRST_COMPENSATION_BACKOFF));
      // Terminating again is harmless and recovers a termination that was never recorded.
      untilDone("terminate compute", () -> compute("Terminate compute").terminate(terminate));
    }
  }

  private void releaseSlot() {
    String slotsId = WorkflowIds.runnerSlots(request.projectId());
    try {
      Workflow.newExternalWorkflowStub(RunnerSlotsWorkflow.class, slotsId).release(workflowId);
    } catch (ApplicationFailure | SignalExternalWorkflowException e) {
      // The guard is gone (finished or terminated): there is no slot to give back. The SDK
      // reports that as an ApplicationFailure (cause EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND),
      // which must not fail this workflow at its very end.
      log.info(
          "{}: no slot to release, {} cannot be told: {}", workflowId, slotsId, e.getMessage());
    }
  }

  /**
   * Runs a compensation step until it succeeds. Activity retry policies already retry transient
   * failures; this loop also outlasts non-retryable ones, because giving up would leak the runner.
   */
  private <T> T untilDone(String what, java.util.function.Supplier<T> step) {
    return Persistently.untilDone(
        what,
        step,
        FIRST_COMPENSATION_BACKOFF,
        MAX_COMPENSATION_BACKOFF,
        e -> {
          lastError = what + " failed, retrying: " + describe(e);
          log.warn("{}: {}", workflowId, lastError);
        });
  }

  private void untilDone(String what, Runnable step) {
    untilDone(
        what,
        () -> {
          step.run();
          return Boolean.TRUE;
        });
  }

  // Stubs whose calls read as a summary in the Temporal UI; timeouts and retries come from the
  // worker's per-type options (see ActivityDefaults.perType).
  private static GitLabRunnerActivities gitlab(String summary) {
    return Workflow.newActivityStub(GitLabRunnerActivities.class, summarised(summary));
  }

  private static ComputeActivities compute(String summary) {
    return Workflow.newActivityStub(ComputeActivities.class, summarised(summary));
  }

  private static RunnerSlotActivities slots(String summary) {
    return Workflow.newActivityStub(RunnerSlotActivities.class, summarised(summary));
  }

  private static ActivityOptions summarised(String summary) {
    return ActivityOptions.newBuilder().setSummary(summary).build();
  }

  private void phase(RunnerPhase next, String note) {
    phase = next;
    history.add(new RunnerStatus.PhaseChange(next, now(), note));
    // The Temporal UI: find runners by phase, and read where this one is and why.
    Workflow.upsertTypedSearchAttributes(EphemeraSearchAttributes.PHASE.valueSet(next.name()));
    recordMetrics(next);
    Workflow.setCurrentDetails(
        "**"
            + next
            + "** job "
            + request.jobId()
            + " ("
            + request.jobName()
            + ") of "
            + request.projectPath()
            + (note == null ? "" : "\n\n" + note));
    log.info("{}: {} ({})", workflowId, next, note);
  }

  /**
   * Phase counts, the queue time (pending job to compute waiting for it) and the lifetime (pending
   * job to compensated). Temporal's metrics scope emits nothing while a history is replayed.
   */
  private void recordMetrics(RunnerPhase next) {
    com.uber.m3.tally.Scope scope =
        Workflow.getMetricsScope().tagged(java.util.Map.of("kind", Labels.KIND_RUNNER));
    scope
        .tagged(java.util.Map.of("phase", next.name()))
        .counter("ephemera_phase_transitions")
        .inc(1);
    com.uber.m3.util.Duration sinceCreated =
        com.uber.m3.util.Duration.ofMillis(
            Math.max(0, Workflow.currentTimeMillis() - createdAt.toEpochMilli()));
    if (next == RunnerPhase.WAITING) {
      scope.timer("ephemera_runner_queue").record(sinceCreated);
    } else if (next == RunnerPhase.FINISHED || next == RunnerPhase.FAILED) {
      scope.timer("ephemera_runner_lifetime").record(sinceCreated);
    }
  }

  @Override
  public void jobStarted(JobEvent event) {
    observe(event);
  }

  @Override
  public void jobFinished(JobEvent event) {
    observe(event);
  }

  @Override
  public void slotGranted() {
    slotGranted = true;
  }

  @Override
  public void stop(String reason) {
    if (stopReason == null) {
      stopReason = reason == null || reason.isBlank() ? "stop requested" : reason;
    }
  }

  @Override
  public RunnerStatus status() {
    RunnerRoute route = request.route();
    return new RunnerStatus(
        request.projectId(),
        request.jobId(),
        request.jobName(),
        phase,
        route == null ? null : route.name(),
        route == null ? null : route.type(),
        runnerId,
        computeId,
        finishedOnRunner != null ? 1 : 0,
        ranJobId,
        outcome,
        lastError,
        createdAt,
        finishedAt,
        history);
  }

  /** The innermost failure message, which names what went wrong (the outer ones name the call). */
  static String describe(Throwable e) {
    return Persistently.describe(e);
  }

  static String human(Duration d) {
    if (d.toHours() > 0 && d.equals(Duration.ofHours(d.toHours()))) {
      return d.toHours() + "h";
    }
    if (d.toMinutes() > 0 && d.equals(Duration.ofMinutes(d.toMinutes()))) {
      return d.toMinutes() + "m";
    }
    return d.toSeconds() + "s";
  }

  private static Instant now() {
    return Instant.ofEpochMilli(Workflow.currentTimeMillis());
  }
}
