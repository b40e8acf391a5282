package io.ephemera.activity.compute;

import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
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

  /**
   * Records progress and, as a side effect, learns of cancellation: heartbeat throws when the
   * workflow cancelled this activity. Outside an activity (direct calls, the sandbox) there is no
   * one to tell.
   */
  static void heartbeat(String detail) {
    ActivityExecutionContext ctx;
    try {
      ctx = Activity.getExecutionContext();
    } catch (IllegalStateException e) {
      return;
    }
    ctx.heartbeat(detail);
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
