package io.ephemera.activity.compute;

import io.temporal.failure.ApplicationFailure;
import java.util.Arrays;

/**
 * Failure types of the compute activities that the catalogue in {@code io.ephemera.common
 * .FailureType} does not have yet. The constant's name is the {@link ApplicationFailure} type
 * stored in history, so constants are never renamed; they are meant to move into {@code
 * FailureType} with the same names (this module cannot change the workflows module). Until then
 * they work as they are: a non-retryable failure is raised as non-retryable, whatever the retry
 * policy lists.
 */
public enum ComputeFailure {
  /** The cloud refused the call (UnauthorizedOperation, AccessDenied): IAM must change first. */
  CloudForbidden(false),
  /**
   * The cloud rejected the request as invalid (unknown AMI, bad parameter): retrying cannot help.
   */
  CloudInvalid(false),
  /** Throttled, out of capacity, 5xx or unreachable: retried with backoff. */
  CloudUnavailable(true),
  /**
   * The runner token the request refers to is not in the token store: the runner was deleted or
   * never registered, so no compute could ever authenticate. The workflow must register anew.
   */
  RunnerTokenMissing(false);

  private final boolean retryable;

  ComputeFailure(boolean retryable) {
    this.retryable = retryable;
  }

  public boolean retryable() {
    return retryable;
  }

  public ApplicationFailure failure(String message, Throwable cause) {
    return retryable
        ? ApplicationFailure.newFailureWithCause(message, name(), cause)
        : ApplicationFailure.newNonRetryableFailureWithCause(message, name(), cause);
  }

  public ApplicationFailure failure(String message) {
    return failure(message, null);
  }

  /** Types no retry policy should retry, to add to {@code RetryOptions.setDoNotRetry}. */
  public static String[] nonRetryableTypes() {
    return Arrays.stream(values()).filter(t -> !t.retryable).map(Enum::name).toArray(String[]::new);
  }
}
