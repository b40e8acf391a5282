package io.ephemera.api.runners;

import io.ephemera.runner.RunnerPhase;
import io.ephemera.runner.RunnerStatus;
import io.ephemera.runner.RunnerType;
import io.swagger.v3.oas.annotations.media.Schema;
import java.time.Instant;
import java.util.List;

/**
 * A single-use runner as the REST API shows it: the workflow's {@link RunnerStatus} plus the id of
 * the workflow that owns it. A separate record, so that the wire format and the history format can
 * evolve on their own.
 *
 * @param history every phase the runner went through, oldest first
 */
record RunnerView(
    String workflowId,
    long projectId,
    long jobId,
    String jobName,
    RunnerPhase phase,
    String route,
    RunnerType type,
    Long runnerId,
    String computeId,
    int jobsRun,
    Long ranJobId,
    String outcome,
    String lastError,
    Instant createdAt,
    Instant finishedAt,
    List<Step> history) {

  /** One phase change: when, and why. */
  @Schema(name = "RunnerStep")
  record Step(RunnerPhase phase, Instant at, String note) {}

  static RunnerView of(String workflowId, RunnerStatus s) {
    return new RunnerView(
        workflowId,
        s.projectId(),
        s.jobId(),
        s.jobName(),
        s.phase(),
        s.route(),
        s.type(),
        s.runnerId(),
        s.computeId(),
        s.jobsRun(),
        s.ranJobId(),
        s.outcome(),
        s.lastError(),
        s.createdAt(),
        s.finishedAt(),
        s.history().stream().map(h -> new Step(h.phase(), h.at(), h.note())).toList());
  }

  /**
   * The last known status of a workflow that ended abnormally: no phase (its compensations may not
   * have run, so FINISHED would be a lie), and why in lastError, with the phase it was last in.
   */
  RunnerView closedAbnormally(String why) {
    String last = phase == null ? why : why + " (last known phase " + phase + ")";
    return new RunnerView(
        workflowId,
        projectId,
        jobId,
        jobName,
        null,
        route,
        type,
        runnerId,
        computeId,
        jobsRun,
        ranJobId,
        outcome,
        last,
        createdAt,
        finishedAt,
        history);
  }

  /** A runner whose status could not be read; the phase is left unknown rather than guessed. */
  static RunnerView unknown(String workflowId, long projectId, long jobId, String why) {
    return new RunnerView(
        workflowId,
        projectId,
        jobId,
        null,
        null,
        null,
        null,
        null,
        null,
        0,
        null,
        null,
        why,
        null,
        null,
        List.of());
  }
}
