package io.ephemera.activity.gitlab;

import io.ephemera.common.FailureType;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;

/**
 * Turns what GitLab answered into typed activity failures: the one place that decides which GitLab
 * errors a retry can cure. The types are {@link FailureType}'s {@code GitLab*} constants.
 */
final class GitLabErrors {
  static final String FORBIDDEN = FailureType.GitLabForbidden.name();
  static final String NOT_FOUND = FailureType.GitLabNotFound.name();
  static final String INVALID = FailureType.GitLabInvalid.name();
  static final String UNAVAILABLE = FailureType.GitLabUnavailable.name();

  /**
   * The longest pause a {@code Retry-After} may impose on one retry. GitLab.com's rate limits reset
   * within a minute; a proxy answering "come back in a day" should not park a compensation that
   * long, the retry policy's own backoff takes over after it.
   */
  static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(10);

  private GitLabErrors() {}

  /**
   * @param e what the call answered
   * @param operation what was being done, naming the project, runner or job, e.g. {@code creating
   *     the runner of workflow runner/42/job-7 in project 42}
   * @param needs what the token needs for it, e.g. {@code the create_runner scope and the
   *     Maintainer role in project 42}
   */
  static ApplicationFailure failure(GitLabCallException e, String operation, String needs) {
    int code = e.status();
    String server = e.serverMessage() == null ? "" : " GitLab said: " + e.serverMessage();
    if (code == 401) {
      return nonRetryable(
          FORBIDDEN,
          operation
              + " failed: GitLab did not accept the token in ephemera.gitlab.token (HTTP 401:"
              + " missing, expired or revoked). It needs "
              + needs
              + "."
              + server,
          e);
    }
    if (code == 403) {
      return nonRetryable(
          FORBIDDEN,
          operation
              + " failed: GitLab forbade it (HTTP 403). The token in ephemera.gitlab.token needs "
              + needs
              + "."
              + server,
          e);
    }
    if (code == 404) {
      return nonRetryable(
          NOT_FOUND,
          operation
              + " failed: GitLab answered 404. It does not exist, or the token cannot see it."
              + server,
          e);
    }
    if (code == 0 || code == 408 || code == 409 || code == 429 || code >= 500) {
      // No answer, a timeout, a concurrent change, a rate limit or a server error: all pass.
      String what =
          code == 0
              ? "GitLab could not be reached (" + e.getMessage() + ")"
              : code == 429 ? "GitLab is rate-limiting (HTTP 429)" : "GitLab answered HTTP " + code;
      Duration delay = e.retryAfter();
      if (delay != null && delay.compareTo(MAX_RETRY_AFTER) > 0) {
        delay = MAX_RETRY_AFTER;
      }
      ApplicationFailure.Builder b =
          ApplicationFailure.newBuilder()
              .setType(UNAVAILABLE)
              .setMessage(
                  operation
                      + " failed: "
                      + what
                      + (delay == null ? "" : "; retrying after " + delay.toSeconds() + "s")
                      + "."
                      + (code == 0 ? "" : server))
              .setNonRetryable(false)
              .setCause(e);
      if (delay != null) {
        b.setNextRetryDelay(delay);
      }
      return b.build();
    }
    // 400, 422 and friends: GitLab will never accept this request as it stands.
    return nonRetryable(
        INVALID,
        operation + " failed: GitLab rejected the request (HTTP " + code + ")." + server,
        e);
  }

  private static ApplicationFailure nonRetryable(String type, String message, Throwable cause) {
    return ApplicationFailure.newBuilder()
        .setType(type)
        .setMessage(message)
        .setNonRetryable(true)
        .setCause(cause)
        .build();
  }
}
