package io.ephemera.activity.compute;

import io.ephemera.activity.Heartbeats;
import io.temporal.activity.Activity;
import java.time.Duration;

/** The seams of polling activities: sleeping (so tests can skip time) and heartbeating. */
final class Waiting {
  private Waiting() {}

  /** Pauses the calling thread; a seam so tests can skip time. */
  @FunctionalInterface
  interface Sleeper {
    void sleep(Duration d) throws InterruptedException;

    Sleeper REAL = d -> Thread.sleep(d);
  }

  /** See {@link Heartbeats#heartbeat}. */
  static void heartbeat(String detail) {
    Heartbeats.heartbeat(detail);
  }

  /**
   * The run id of the calling workflow, or empty outside an activity. Lets idempotency tokens tell
   * a retry of this run (same token) from a later run of the same workflow id (a new token).
   */
  static String workflowRunId() {
    try {
      return Activity.getExecutionContext().getInfo().getRunId();
    } catch (IllegalStateException e) {
      return "";
    }
  }
}
