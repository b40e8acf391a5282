package io.ephemera.activity.reconciler;

import java.time.Instant;

/** Asks Temporal whether a resource's owning workflow is running. */
public interface Owners {

  /** What Temporal says of a workflow id. */
  record State(boolean running, String description, Instant closedAt) {
    public static final State NOT_FOUND = new State(false, "not found", null);
  }

  /**
   * The owner's state. Unknown ids are {@link State#NOT_FOUND}; every other failure is thrown as
   * {@link LookupFailed}, never answered as "not running".
   */
  State state(String workflowId);

  /** Temporal did not answer (unavailable, timed out, denied). */
  final class LookupFailed extends RuntimeException {
    public LookupFailed(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
