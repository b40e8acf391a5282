package io.ephemera.activity.build;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A clock that moves only when the builder sleeps, so wait budgets of minutes pass at once. Actions
 * queued with {@link #onSleep} run at the next sleeps, one each: that is how a test plays the
 * kubelet "while" the build waits.
 */
final class FakeTime extends Clock implements KanikoBuilder.Sleeper {
  private volatile Instant now = Instant.parse("2030-01-01T00:00:00Z");
  private final Deque<Runnable> onSleep = new ArrayDeque<>();
  private int sleeps;

  synchronized void onSleep(Runnable action) {
    onSleep.add(action);
  }

  @Override
  public void sleep(Duration d) {
    Runnable next;
    synchronized (this) {
      sleeps++;
      now = now.plus(d);
      next = onSleep.poll();
    }
    if (next != null) {
      next.run();
    }
  }

  synchronized int sleeps() {
    return sleeps;
  }

  @Override
  public Instant instant() {
    return now;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
