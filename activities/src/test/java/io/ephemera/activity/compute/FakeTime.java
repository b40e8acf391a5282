package io.ephemera.activity.compute;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A clock that moves only when the code under test sleeps, so waiting budgets of minutes pass in
 * microseconds. Actions queued with {@link #onSleep} run at the next sleeps, one each: that is how
 * a test changes the world "while" the activity waits.
 */
final class FakeTime extends Clock implements Waiting.Sleeper {
  private final Instant start;
  private volatile Instant now;
  private final Deque<Runnable> onSleep = new ArrayDeque<>();
  private int sleeps;

  FakeTime(Instant start) {
    this.start = start;
    this.now = start;
  }

  synchronized void onSleep(Runnable action) {
    onSleep.add(action);
  }

  @Override
  public synchronized void sleep(Duration d) {
    sleeps++;
    now = now.plus(d);
    Runnable next = onSleep.poll();
    if (next != null) {
      next.run();
    }
  }

  synchronized int sleeps() {
    return sleeps;
  }

  Duration elapsed() {
    return Duration.between(start, now);
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
