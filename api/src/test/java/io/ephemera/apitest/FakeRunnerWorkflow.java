package io.ephemera.apitest;

import io.ephemera.runner.JobEvent;
import io.ephemera.runner.RunnerPhase;
import io.ephemera.runner.RunnerRequest;
import io.ephemera.runner.RunnerStatus;
import io.ephemera.runner.RunnerWorkflow;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Stands in for the real runner workflow on the test server, under the same type and handler names:
 * it "provisions" at once (runner id {@link #runnerIdOf}), records every job event, runs the first
 * job its runner picks up, and finishes when that job ends, when its own job ends before any runner
 * took it, or on {@code stop}. Enough to exercise start with USE_EXISTING, signal routing, queries
 * and closed workflows for real.
 */
public class FakeRunnerWorkflow implements RunnerWorkflow, JobEventLog {
  private final RunnerRequest request;
  private final long runnerId;
  private final List<String> events = new ArrayList<>();
  private final List<RunnerStatus.PhaseChange> history = new ArrayList<>();
  private final Instant createdAt;
  private RunnerPhase phase;
  private int jobsRun;
  private Long ranJobId;
  private String outcome;
  private Instant finishedAt;
  private boolean done;

  @WorkflowInit
  public FakeRunnerWorkflow(RunnerRequest request) {
    this.request = request;
    this.runnerId = runnerIdOf(request.jobId());
    this.createdAt = now();
    enter(RunnerPhase.REGISTERING, "route " + request.route().name());
    enter(RunnerPhase.PROVISIONING, "runner " + runnerId);
    enter(RunnerPhase.WAITING, "pod/runner-" + request.jobId());
  }

  /** The GitLab runner id the fake "registers" for a job. */
  public static long runnerIdOf(long jobId) {
    return 900_000_000L + jobId;
  }

  @Override
  public RunnerStatus run(RunnerRequest ignored) {
    Workflow.await(() -> done);
    enter(RunnerPhase.DRAINING, "compute terminated, runner deleted");
    enter(RunnerPhase.FINISHED, outcome);
    finishedAt = now();
    return status();
  }

  @Override
  public void jobStarted(JobEvent event) {
    events.add(line(SIGNAL_JOB_STARTED, event));
    if (!done && ranJobId == null && Long.valueOf(runnerId).equals(event.runnerId())) {
      ranJobId = event.jobId();
      enter(RunnerPhase.RUNNING, "job " + event.jobId());
    }
  }

  @Override
  public void jobFinished(JobEvent event) {
    events.add(line(SIGNAL_JOB_FINISHED, event));
    if (done) {
      return;
    }
    if (Long.valueOf(runnerId).equals(event.runnerId())) {
      jobsRun++;
      ranJobId = event.jobId();
      outcome = "job " + event.jobId() + " " + event.status();
      done = true;
    } else if (event.jobId() == request.jobId() && event.runnerId() == null) {
      outcome = "job " + event.status() + " before pickup";
      done = true;
    }
  }

  @Override
  public void slotGranted() {}

  @Override
  public void stop(String reason) {
    if (!done) {
      outcome = "stopped: " + reason;
      done = true;
    }
  }

  @Override
  public RunnerStatus status() {
    return new RunnerStatus(
        request.projectId(),
        request.jobId(),
        request.jobName(),
        phase,
        request.route().name(),
        request.route().type(),
        runnerId,
        "pod/runner-" + request.jobId(),
        jobsRun,
        ranJobId,
        outcome,
        null,
        createdAt,
        finishedAt,
        history);
  }

  @Override
  public List<String> jobEvents() {
    return List.copyOf(events);
  }

  private void enter(RunnerPhase next, String note) {
    phase = next;
    history.add(new RunnerStatus.PhaseChange(next, now(), note));
  }

  private static String line(String signal, JobEvent e) {
    return signal + ":" + e.jobId() + ":" + e.status() + ":" + e.runnerId();
  }

  private static Instant now() {
    return Instant.ofEpochMilli(Workflow.currentTimeMillis());
  }
}
