package io.ephemera.common;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.client.WorkflowNotFoundException;

/** Client-side helpers for reading what a Temporal call's failure means. Not for workflow code. */
public final class TemporalCalls {
  private static final int MAX_DEPTH = 16;

  private TemporalCalls() {}

  /** The workflow (or execution) does not exist: never started, or gone past retention. */
  public static boolean isNotFound(Throwable e) {
    Throwable t = e;
    for (int depth = 0; t != null && depth < MAX_DEPTH; depth++, t = t.getCause()) {
      if (t instanceof WorkflowNotFoundException) {
        return true;
      }
      if (t instanceof StatusRuntimeException sre) {
        return sre.getStatus().getCode() == Status.Code.NOT_FOUND;
      }
    }
    return false;
  }
}
