package io.ephemera.activity.compute;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code ephemera.runners.ec2.*}: where and how runner instances run. {@code null} (and {@code 0}
 * for the attempt count) stand for "unset" so the record can be built by hand as easily as by
 * Spring; invalid values fail at start-up rather than at the first pending job.
 *
 * @param region the AWS region; unset means the SDK's default chain ({@code AWS_REGION}, profile,
 *     instance metadata)
 * @param endpointOverride EC2 and SSM endpoint, for the sandbox and tests (both APIs are served
 *     there); unset in production
 * @param subnetId subnet of runner instances; unset means the default VPC's (or the launch
 *     template's)
 * @param securityGroupIds security groups of runner instances; runners only need outbound HTTPS
 *     (GitLab, SSM), so a group without inbound rules is the right one
 * @param instanceProfile name or ARN of the instance profile whose role may read the runner's SSM
 *     parameter ({@code ssm:GetParameter}, and {@code kms:Decrypt} on the key); without one the
 *     instance cannot read its token unless the launch template gives it a profile
 * @param defaultInstanceType instance type when a route names none (and names an AMI, not a launch
 *     template, which then decides)
 * @param defaultAmi AMI id or launch template when a route names none; unset means such a route is
 *     refused
 * @param kmsKeyId KMS key the SecureString parameters are encrypted with; unset means the account's
 *     {@code aws/ssm} key
 * @param parameterPrefix SSM path under which runner tokens are written, one parameter per workflow
 * @param executor the gitlab-runner executor on the instance
 * @param gitlabUrl GitLab as seen from the instances, when it differs from the URL Ephemera uses;
 *     unset means the URL the worker passes in ({@code ephemera.gitlab.url})
 * @param waitBudget how long one awaitTerminated attempt waits for the instances to terminate
 * @param pollInterval pause between two DescribeInstances calls while waiting
 * @param maxApiAttempts attempts of one AWS call inside one activity attempt (the SDK's own retries
 *     with backoff); Temporal retries the activity beyond that
 */
@ConfigurationProperties("ephemera.runners.ec2")
public record Ec2RunnerProperties(
    String region,
    URI endpointOverride,
    String subnetId,
    List<String> securityGroupIds,
    String instanceProfile,
    String defaultInstanceType,
    String defaultAmi,
    String kmsKeyId,
    String parameterPrefix,
    String executor,
    URI gitlabUrl,
    Duration waitBudget,
    Duration pollInterval,
    int maxApiAttempts) {

  private static final String PREFIX = "ephemera.runners.ec2.";
  private static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-[0-9]+");
  private static final Pattern SUBNET = Pattern.compile("subnet-[0-9a-f]{8,17}");
  private static final Pattern SECURITY_GROUP = Pattern.compile("sg-[0-9a-f]{8,17}");
  private static final Pattern INSTANCE_TYPE = Pattern.compile("[a-z][a-z0-9-]*\\.[a-z0-9]+");
  private static final Pattern PROFILE_NAME = Pattern.compile("[\\w+=,.@-]{1,128}");
  private static final Pattern PROFILE_ARN =
      Pattern.compile("arn:aws[\\w-]*:iam::[0-9]{12}:instance-profile/[\\w+=,.@/-]{1,128}");
  private static final Pattern PARAMETER_PREFIX = Pattern.compile("(/[A-Za-z0-9_.-]+)+");
  static final Pattern AMI = Pattern.compile("ami-[0-9a-f]{8,17}");
  static final Pattern LAUNCH_TEMPLATE_ID = Pattern.compile("lt-[0-9a-f]{8,17}");
  static final Pattern LAUNCH_TEMPLATE_NAME = Pattern.compile("[A-Za-z0-9().\\-/_]{3,128}");

  public Ec2RunnerProperties {
    region = blankToNull(region);
    if (region != null && !REGION.matcher(region).matches()) {
      throw new IllegalArgumentException(
          PREFIX + "region must be an AWS region such as eu-west-1, was '" + region + "'");
    }
    if (endpointOverride != null
        && (endpointOverride.getScheme() == null || endpointOverride.getHost() == null)) {
      throw new IllegalArgumentException(PREFIX + "endpoint-override must be an absolute URL");
    }
    subnetId = blankToNull(subnetId);
    if (subnetId != null && !SUBNET.matcher(subnetId).matches()) {
      throw new IllegalArgumentException(
          PREFIX + "subnet-id must look like subnet-0123abcd, was '" + subnetId + "'");
    }
    securityGroupIds = securityGroupIds == null ? List.of() : List.copyOf(securityGroupIds);
    for (String sg : securityGroupIds) {
      if (!SECURITY_GROUP.matcher(sg).matches()) {
        throw new IllegalArgumentException(
            PREFIX + "security-group-ids must look like sg-0123abcd, was '" + sg + "'");
      }
    }
    instanceProfile = blankToNull(instanceProfile);
    if (instanceProfile != null
        && !PROFILE_NAME.matcher(instanceProfile).matches()
        && !PROFILE_ARN.matcher(instanceProfile).matches()) {
      throw new IllegalArgumentException(
          PREFIX
              + "instance-profile must be an instance profile name or ARN, was '"
              + instanceProfile
              + "'");
    }
    // t3.medium: two vCPUs and 4 GiB, a fair size for a typical job, burstable so idle is cheap.
    defaultInstanceType = blankToNull(defaultInstanceType);
    defaultInstanceType = defaultInstanceType == null ? "t3.medium" : defaultInstanceType;
    if (!INSTANCE_TYPE.matcher(defaultInstanceType).matches()) {
      throw new IllegalArgumentException(
          PREFIX
              + "default-instance-type must be an instance type such as t3.medium, was '"
              + defaultInstanceType
              + "'");
    }
    defaultAmi = blankToNull(defaultAmi);
    if (defaultAmi != null && !validImage(defaultAmi)) {
      throw new IllegalArgumentException(
          PREFIX
              + "default-ami must be an AMI id (ami-...), a launch template id (lt-...) or a launch"
              + " template name, was '"
              + defaultAmi
              + "'");
    }
    kmsKeyId = blankToNull(kmsKeyId);
    if (kmsKeyId != null && kmsKeyId.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException(PREFIX + "kms-key-id must not contain whitespace");
    }
    parameterPrefix = blankToNull(parameterPrefix);
    parameterPrefix = parameterPrefix == null ? "/ephemera/runners" : parameterPrefix;
    if (!PARAMETER_PREFIX.matcher(parameterPrefix).matches() || parameterPrefix.length() > 900) {
      throw new IllegalArgumentException(
          PREFIX
              + "parameter-prefix must be an SSM path such as /ephemera/runners, was '"
              + parameterPrefix
              + "'");
    }
    executor = blankToNull(executor);
    executor = executor == null ? "shell" : executor;
    if (!RunSingle.EXECUTOR.matcher(executor).matches()) {
      throw new IllegalArgumentException(
          PREFIX + "executor must be a gitlab-runner executor name, was '" + executor + "'");
    }
    gitlabUrl =
        gitlabUrl == null ? null : RunSingle.gitlabUrl(PREFIX + "gitlab-url", gitlabUrl.toString());
    // Five minutes: an instance takes about a minute to go from shutting-down to terminated.
    waitBudget = positive("wait-budget", waitBudget, Duration.ofMinutes(5));
    // Five seconds: DescribeInstances is rate limited per account; state changes take tens of s.
    pollInterval = positive("poll-interval", pollInterval, Duration.ofSeconds(5));
    maxApiAttempts = maxApiAttempts == 0 ? 3 : maxApiAttempts;
    if (maxApiAttempts < 1 || maxApiAttempts > 10) {
      throw new IllegalArgumentException(
          PREFIX + "max-api-attempts must be 1..10, was " + maxApiAttempts);
    }
  }

  /** Every default, as an empty configuration gives them. */
  /** The same settings talking to another endpoint and region (the local profile's sandbox). */
  public Ec2RunnerProperties withEndpoint(String region, URI endpoint) {
    return new Ec2RunnerProperties(
        region,
        endpoint,
        subnetId,
        securityGroupIds,
        instanceProfile,
        defaultInstanceType,
        defaultAmi,
        kmsKeyId,
        parameterPrefix,
        executor,
        gitlabUrl,
        waitBudget,
        pollInterval,
        maxApiAttempts);
  }

  public static Ec2RunnerProperties defaults() {
    return new Ec2RunnerProperties(
        null, null, null, null, null, null, null, null, null, null, null, null, null, 0);
  }

  /** An AMI id, a launch template id or a launch template name. */
  static boolean validImage(String s) {
    return AMI.matcher(s).matches()
        || LAUNCH_TEMPLATE_ID.matcher(s).matches()
        || (!s.startsWith("ami-") && LAUNCH_TEMPLATE_NAME.matcher(s).matches());
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }

  private static Duration positive(String name, Duration value, Duration fallback) {
    Duration d = value == null ? fallback : value;
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(PREFIX + name + " must be positive");
    }
    return d;
  }
}
