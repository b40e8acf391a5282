package io.ephemera.common;

import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityOptions;

/**
 * The part of every activity's options that workflow logic relies on, shared by the worker (which
 * adds timeouts and retries from configuration) and the workflow tests, so both run the same
 * semantics.
 */
public final class ActivityDefaults {
  private ActivityDefaults() {}

  /**
   * Cancellation waits until the activity has really stopped. With the SDK's default (TRY_CANCEL) a
   * superseded deploy's apply could still land after the newer one, or after teardown, putting a
   * stale image live or recreating what was just deleted.
   */
  public static ActivityOptions.Builder newBuilder() {
    return ActivityOptions.newBuilder()
        .setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED);
  }
}
