package io.ephemera.reviewapp;

import java.time.Instant;

/**
 * One step of a deploy as {@code status()} shows it: {@code credentials}, {@code build}, {@code
 * namespace}, {@code pull-credentials}, {@code workload}, {@code rollout}. {@code finishedAt} is
 * {@code null} while it runs; {@code outcome} is {@code ok}, {@code skipped}, {@code cancelled} or
 * {@code failed: <why>}. Stored in history: never rename a step.
 */
public record DeployStep(String name, Instant startedAt, Instant finishedAt, String outcome) {
  static DeployStep started(String name, Instant at) {
    return new DeployStep(name, at, null, null);
  }

  DeployStep finished(Instant at, String outcome) {
    return new DeployStep(name, startedAt, at, outcome);
  }
}
