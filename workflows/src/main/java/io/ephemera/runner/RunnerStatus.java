package io.ephemera.runner;

import java.time.Instant;
import java.util.List;

/**
 * What {@code status()} answers, and the workflow's result. {@code history} holds every phase
 * change with its time and reason, so the REST API can show the runner's whole life.
 */
public record RunnerStatus(
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
    List<PhaseChange> history) {

  public RunnerStatus {
    history = history == null ? List.of() : List.copyOf(history);
  }

  /** One step of the runner's life. */
  public record PhaseChange(RunnerPhase phase, Instant at, String note) {}
}
