package io.ephemera.common;

import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Promise;
import io.temporal.workflow.TimerOptions;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Waits whose timers read as a summary in the Temporal UI ("Auto-stop in 3d 0h 4m"), for workflow
 * code only. Unlike {@code Workflow.await(Duration, ...)}, a wait that ends by its condition
 * cancels its timer instead of leaving it to fire later for nothing.
 */
public final class Timers {
  private Timers() {}

  /**
   * Waits until {@code condition} holds (answers true) or {@code timeout} passes (answers false). A
   * cancellation of the workflow is thrown, as {@code Workflow.await} does.
   */
  public static boolean await(Duration timeout, String summary, Supplier<Boolean> condition) {
    if (condition.get()) {
      return true;
    }
    List<Promise<Void>> timer = new ArrayList<>(1);
    CancellationScope scope =
        Workflow.newCancellationScope(
            () ->
                timer.add(
                    Workflow.newTimer(
                        timeout, TimerOptions.newBuilder().setSummary(summary).build())));
    scope.run();
    Workflow.await(() -> timer.get(0).isCompleted() || condition.get());
    if (condition.get()) {
      if (!timer.get(0).isCompleted()) {
        scope.cancel("condition met");
      }
      return true;
    }
    timer.get(0).get(); // throws when the timer ended by the workflow's own cancellation
    return false;
  }

  /** {@code Workflow.sleep} with a summary. */
  public static void sleep(Duration duration, String summary) {
    Workflow.newTimer(duration, TimerOptions.newBuilder().setSummary(summary).build()).get();
  }

  /** "3 days", "1 hour", or "2d 4h 10m" for anything else; seconds below a minute. */
  public static String human(Duration d) {
    if (d.toDays() > 0 && d.equals(Duration.ofDays(d.toDays()))) {
      return d.toDays() == 1 ? "1 day" : d.toDays() + " days";
    }
    if (d.toHours() > 0 && d.equals(Duration.ofHours(d.toHours()))) {
      return d.toHours() == 1 ? "1 hour" : d.toHours() + " hours";
    }
    if (d.compareTo(Duration.ofMinutes(1)) < 0) {
      return Math.max(d.toSeconds(), 0) + "s";
    }
    StringBuilder b = new StringBuilder();
    if (d.toDays() > 0) {
      b.append(d.toDays()).append("d ");
    }
    if (d.toHoursPart() > 0 || b.length() > 0) {
      b.append(d.toHoursPart()).append("h ");
    }
    b.append(d.toMinutesPart()).append('m');
    return b.toString();
  }
}
