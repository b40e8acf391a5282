package io.ephemera.activity.gitlab;

import java.time.Duration;

/**
 * A GitLab call that did not answer 2xx, or did not answer at all ({@code status} 0). Carries what
 * {@link GitLabErrors} needs to type it; its message names the method and path (which hold ids,
 * never a credential) and GitLab's own message with anything token-like removed.
 */
final class GitLabCallException extends RuntimeException {
  private final int status;
  private final Duration retryAfter;
  private final String serverMessage;

  GitLabCallException(
      String method,
      String path,
      int status,
      String what,
      Duration retryAfter,
      String serverMessage) {
    super(
        method
            + " "
            + path
            + ": "
            + what
            + (serverMessage == null ? "" : " (GitLab said: " + serverMessage + ")"));
    this.status = status;
    this.retryAfter = retryAfter;
    this.serverMessage = serverMessage;
  }

  /** The HTTP status, or 0 when GitLab could not be reached or did not answer in time. */
  int status() {
    return status;
  }

  /** {@code Retry-After} of a 429 or 503, or null. */
  Duration retryAfter() {
    return retryAfter;
  }

  /** GitLab's {@code message}, sanitised, or null. */
  String serverMessage() {
    return serverMessage;
  }
}
