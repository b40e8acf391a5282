package io.ephemera.activity;

import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;

/** What every polling activity needs from its Temporal context, and nothing outside one. */
public final class Heartbeats {
  private Heartbeats() {}

  /**
   * Records progress and, as a side effect, learns of cancellation: heartbeat throws {@link
   * io.temporal.client.ActivityCanceledException} when the workflow cancelled the activity (a newer
   * push superseded it). Outside an activity (direct calls, the sandbox, tests) there is no one to
   * tell, and nothing happens.
   */
  public static void heartbeat(String detail) {
    ActivityExecutionContext ctx;
    try {
      ctx = Activity.getExecutionContext();
    } catch (IllegalStateException e) {
      return;
    }
    ctx.heartbeat(detail);
  }
}
