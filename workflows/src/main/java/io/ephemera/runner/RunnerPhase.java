package io.ephemera.runner;

/** Where a runner is in its life. Stored in history and search attributes: never rename. */
public enum RunnerPhase {
  /** Waiting for a slot under the per-project limit. */
  QUEUED,
  REGISTERING,
  PROVISIONING,
  /** Compute is up; the runner waits for a job. */
  WAITING,
  /** The runner has picked up a job. */
  RUNNING,
  /** Compensations are running: compute terminated, runner deleted. */
  DRAINING,
  FINISHED,
  FAILED
}
