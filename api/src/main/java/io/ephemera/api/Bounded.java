package io.ephemera.api;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Runs a blocking Temporal call with a hard time budget. The SDK retries an unreachable server for
 * up to a minute and waits for a worker indefinitely; an HTTP caller (GitLab gives a webhook 10 s)
 * needs an answer sooner. The call runs on its own virtual thread and is interrupted, which cancels
 * the gRPC call, once the budget is spent.
 */
public final class Bounded {
  private Bounded() {}

  /**
   * @throws TimeoutException when {@code call} has not finished within {@code budget}; it may still
   *     take effect on the server, so callers only use this for idempotent calls
   */
  public static <T> T call(Duration budget, String name, Supplier<T> call) throws TimeoutException {
    FutureTask<T> task = new FutureTask<>(call::get);
    Thread.ofVirtual().name(name).start(task);
    try {
      return task.get(budget.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      task.cancel(true);
      throw e;
    } catch (ExecutionException e) {
      // Rethrown as is: callers inspect the Temporal exception and its causes.
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      task.cancel(true);
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + name, e);
    }
  }
}
