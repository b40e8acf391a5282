package io.ephemera.common;

import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TemporalFailure;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Workflow-side helpers for steps that must not give up: teardown and compensations. For workflow
 * code only (sleeps are durable timers).
 */
public final class Persistently {
  private Persistently() {}

  /**
   * Runs {@code step} until it succeeds. Activity retry policies already retry transient failures;
   * this outer loop also outlasts non-retryable ones (a 403 until RBAC is fixed), because giving up
   * would leak what the step cleans up. Between attempts it tells {@code onFailure} and sleeps,
   * doubling from {@code first} up to {@code max}.
   */
  public static <T> T untilDone(
      String what,
      Supplier<T> step,
      Duration first,
      Duration max,
      Consumer<ActivityFailure> onFailure) {
    Duration backoff = first;
    while (true) {
      try {
        return step.get();
      } catch (ActivityFailure e) {
        onFailure.accept(e);
        Timers.sleep(backoff, "Retry " + what + " in " + Timers.human(backoff));
        backoff = backoff.multipliedBy(2);
        if (backoff.compareTo(max) > 0) {
          backoff = max;
        }
      }
    }
  }

  /** The innermost failure message, which names what went wrong (the outer ones name the call). */
  public static String describe(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    if (t instanceof ApplicationFailure af) {
      return af.getOriginalMessage() + " [" + af.getType() + "]";
    }
    if (t instanceof TemporalFailure tf) {
      return tf.getOriginalMessage();
    }
    return String.valueOf(t.getMessage());
  }
}
