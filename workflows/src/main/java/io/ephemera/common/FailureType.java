package io.ephemera.common;

import io.temporal.failure.ApplicationFailure;

/**
 * The catalogue of typed failures activities raise. The enum constant's name is the {@link
 * ApplicationFailure} type stored in history, so constants are never renamed.
 */
public enum FailureType {
  /** A name derived from user input cannot be made DNS-1123 safe. Retrying cannot help. */
  InvalidName(false),
  /** The cluster refused the request (401/403): RBAC must change first. */
  KubernetesForbidden(false),
  /** The cluster rejected an object as invalid (422). */
  KubernetesInvalid(false),
  /** The rollout cannot succeed without a new push (image pull failure, progress deadline). */
  RolloutFailed(false),
  /** The rollout has not finished yet; retried with backoff. */
  RolloutPending(true),
  /** The cluster is unreachable or answered 5xx; retried with backoff. */
  KubernetesUnavailable(true),
  /** The cloud refused the call (UnauthorizedOperation, AccessDenied): IAM must change first. */
  CloudForbidden(false),
  /** The cloud rejected the request as invalid (unknown AMI, bad parameter). */
  CloudInvalid(false),
  /** Throttled, out of capacity, 5xx or unreachable: retried with backoff. */
  CloudUnavailable(true),
  /**
   * The runner token a request refers to is not in the token store: the runner was deleted or never
   * registered, so no compute could ever authenticate with it.
   */
  RunnerTokenMissing(false),
  /** GitLab refused the token (401/403): the token needs another scope or role. */
  GitLabForbidden(false),
  /** A GitLab object looked up does not exist. */
  GitLabNotFound(false),
  /** GitLab rejected the request as invalid (400, 422, other 4xx). */
  GitLabInvalid(false),
  /** GitLab is unreachable, rate-limited (429) or answered 5xx: retried, honouring Retry-After. */
  GitLabUnavailable(true),
  /** Vault denied the path (403): a policy must change first. The message names path and role. */
  VaultForbidden(false),
  /** The configured Vault role or secrets-engine mount does not exist (404 / "unknown role"). */
  VaultRoleMissing(false),
  /** Vault rejected the request as invalid (400), or its answer lacked what was asked for. */
  VaultInvalid(false),
  /** Vault is sealed, on standby without a leader, unreachable or answered 5xx: retried. */
  VaultUnavailable(true),
  /** The image build failed; the message ends with the last lines of the build log. */
  BuildFailed(false),
  /** The build has not finished within one attempt's wait budget; retried, re-attaching to it. */
  BuildPending(true);

  private final boolean retryable;

  FailureType(boolean retryable) {
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

  /** Types that no retry policy should retry, for {@code RetryOptions.setDoNotRetry}. */
  public static String[] nonRetryableTypes() {
    return java.util.Arrays.stream(values())
        .filter(t -> !t.retryable)
        .map(Enum::name)
        .toArray(String[]::new);
  }
}
