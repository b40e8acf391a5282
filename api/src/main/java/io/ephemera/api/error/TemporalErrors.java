package io.ephemera.api.error;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import io.temporal.client.WorkflowNotFoundException;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * Reads what a Temporal client exception means. The SDK wraps gRPC failures one or more levels deep
 * and the depth varies by call, so the cause chain is walked with {@code instanceof}: a blind cast
 * of {@code getCause()} breaks on the first wrapper nobody expected.
 */
public final class TemporalErrors {
  /** Codes after which the same call may well succeed later: the server is away, not refusing. */
  private static final Set<Status.Code> TRANSIENT =
      EnumSet.of(
          Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED, Status.Code.RESOURCE_EXHAUSTED);

  private static final int MAX_DEPTH = 32;

  private TemporalErrors() {}

  /** Temporal could not be reached or did not answer in time. */
  public static boolean isUnavailable(Throwable e) {
    return grpcCode(e).filter(TRANSIENT::contains).isPresent();
  }

  /** No such workflow, or (for signals and updates) its latest run has already closed. */
  public static boolean isNotFound(Throwable e) {
    return find(e, WorkflowNotFoundException.class).isPresent()
        || grpcCode(e).filter(c -> c == Status.Code.NOT_FOUND).isPresent();
  }

  /** The gRPC status code of the first gRPC failure in the cause chain. */
  public static Optional<Status.Code> grpcCode(Throwable e) {
    Throwable t = e;
    for (int depth = 0; t != null && depth < MAX_DEPTH; depth++, t = t.getCause()) {
      if (t instanceof StatusRuntimeException sre) {
        return Optional.of(sre.getStatus().getCode());
      }
      if (t instanceof StatusException se) {
        return Optional.of(se.getStatus().getCode());
      }
    }
    return Optional.empty();
  }

  /** The first throwable of {@code type} in the cause chain, {@code e} included. */
  public static <T extends Throwable> Optional<T> find(Throwable e, Class<T> type) {
    Throwable t = e;
    for (int depth = 0; t != null && depth < MAX_DEPTH; depth++, t = t.getCause()) {
      if (type.isInstance(t)) {
        return Optional.of(type.cast(t));
      }
    }
    return Optional.empty();
  }
}
