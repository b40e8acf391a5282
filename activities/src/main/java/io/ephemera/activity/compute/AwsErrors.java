package io.ephemera.activity.compute;

import io.ephemera.common.FailureType;
import io.temporal.failure.ApplicationFailure;
import java.util.Set;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * Turns what EC2 and SSM answered into {@link FailureType}s: the one place that decides which AWS
 * errors a retry can cure. Messages name the action and the IAM permission it needs, never a
 * credential or a runner token (the SDK's messages hold neither: request bodies are not echoed, and
 * SSM's {@code Value} is a sensitive field the SDK redacts).
 */
final class AwsErrors {
  private static final int MAX_SERVER_MESSAGE = 300;

  /** The caller lacks a permission: nothing changes until IAM does. */
  private static final Set<String> FORBIDDEN =
      Set.of(
          "UnauthorizedOperation",
          "AccessDenied",
          "AccessDeniedException",
          "AuthFailure",
          "InvalidClientTokenId",
          "UnrecognizedClientException",
          "SignatureDoesNotMatch",
          "OptInRequired",
          "Blocked");

  /**
   * Transient by nature: throttling, capacity (another Availability Zone or a minute later may have
   * it), quotas that free up as other runners terminate, server faults, expired temporary
   * credentials (the provider refreshes them), an instance in a state that is about to change.
   */
  private static final Set<String> TRANSIENT =
      Set.of(
          "RequestLimitExceeded",
          "Throttling",
          "ThrottlingException",
          "TooManyRequestsException",
          "TooManyUpdates",
          "ThrottledException",
          "InsufficientInstanceCapacity",
          "InsufficientAddressCapacity",
          "InsufficientCapacity",
          "InsufficientHostCapacity",
          "InsufficientVolumeCapacity",
          "InstanceLimitExceeded",
          "VcpuLimitExceeded",
          "InternalError",
          "InternalFailure",
          "InternalServerError",
          "ServiceUnavailable",
          "Unavailable",
          "RequestExpired",
          "ExpiredToken",
          "ExpiredTokenException",
          "IncorrectInstanceState",
          "IncorrectState");

  private AwsErrors() {}

  /** The AWS error code, or {@code null} when there was no answer from AWS. */
  static String code(SdkException e) {
    if (e instanceof AwsServiceException s && s.awsErrorDetails() != null) {
      return s.awsErrorDetails().errorCode();
    }
    return null;
  }

  /**
   * @param action the API action, e.g. {@code RunInstances}
   * @param permissions the IAM permissions the action needs, e.g. {@code ec2:RunInstances}
   */
  static ApplicationFailure translate(SdkException e, String action, String permissions) {
    if (!(e instanceof AwsServiceException s)) {
      // No answer at all: connection refused, timeout, DNS. The SDK has already retried.
      return FailureType.CloudUnavailable.failure(
          action + " failed: AWS could not be reached (" + rootMessage(e) + ")", e);
    }
    String code = code(e);
    int status = s.statusCode();
    String server = serverMessage(s);
    String what =
        action
            + " failed: "
            + (code == null ? "" : code + " ")
            + "(HTTP "
            + status
            + ")"
            + (server.isEmpty() ? "" : ": " + server);
    if ((code != null && FORBIDDEN.contains(code)) || status == 401 || status == 403) {
      return FailureType.CloudForbidden.failure(
          what + ". Ephemera's IAM identity needs " + permissions, e);
    }
    if ((code != null && TRANSIENT.contains(code))
        || s.isThrottlingException()
        || status == 429
        || status >= 500) {
      return FailureType.CloudUnavailable.failure(what, e);
    }
    // InvalidAMIID.*, InvalidParameterValue, InvalidParameterCombination, InvalidSubnetID.NotFound,
    // InvalidGroup.NotFound, InvalidLaunchTemplateName.*, IdempotentParameterMismatch, ...: the
    // same request will be refused again, so the workflow hears it at once.
    return FailureType.CloudInvalid.failure(what, e);
  }

  private static String serverMessage(AwsServiceException e) {
    String m = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorMessage();
    if (m == null || m.isBlank()) {
      return "";
    }
    return m.length() > MAX_SERVER_MESSAGE ? m.substring(0, MAX_SERVER_MESSAGE) + "…" : m;
  }

  private static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String m = root.getMessage();
    return root.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }
}
