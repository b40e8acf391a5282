package io.ephemera.activity.compute;

import io.ephemera.activity.config.RunnerProperties;
import io.ephemera.activity.gitlab.RunnerTokenStore;
import io.ephemera.activity.gitlab.RunnerTokenStore.StoredToken;
import io.ephemera.common.FailureType;
import io.ephemera.common.Labels;
import io.ephemera.common.Names;
import io.ephemera.runner.RunnerRoute;
import io.ephemera.runner.RunnerType;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesRequest;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesResponse;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.HttpTokensState;
import software.amazon.awssdk.services.ec2.model.IamInstanceProfileSpecification;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceMetadataEndpointState;
import software.amazon.awssdk.services.ec2.model.InstanceMetadataOptionsRequest;
import software.amazon.awssdk.services.ec2.model.InstanceStateName;
import software.amazon.awssdk.services.ec2.model.LaunchTemplateSpecification;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.RunInstancesRequest;
import software.amazon.awssdk.services.ec2.model.ShutdownBehavior;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.ParameterNotFoundException;
import software.amazon.awssdk.services.ssm.model.ParameterType;
import software.amazon.awssdk.services.ssm.model.PutParameterRequest;

/**
 * Single-use runners on EC2 instances, through the AWS SDK v2.
 *
 * <p>The runner token goes from the token store into an SSM SecureString parameter {@code
 * <prefix>/<workflow label>}; the instance reads it at boot with its instance role, so it is in
 * neither the user data (readable by anyone with {@code ec2:DescribeInstanceAttribute}) nor any
 * payload. The user data runs {@code gitlab-runner run-single --max-builds 1}, then halts; with
 * {@code InstanceInitiatedShutdownBehavior=terminate} halting terminates the instance, so a runner
 * ends itself after its one job (or its wait timeout, or its lifetime) even if Ephemera never calls
 * {@link #terminate}.
 *
 * <p>Everything is found again by the tag {@code ephemera.io/workflow-id} (the workflow id
 * verbatim: tag values may hold '/'), which makes every operation idempotent; {@code RunInstances}
 * additionally carries a client token, EC2's own idempotency, so a retried call whose first answer
 * was lost gets the same instance back rather than a second one.
 */
public class Ec2Runners {
  private static final Logger log = LoggerFactory.getLogger(Ec2Runners.class);

  /** Tag of the workflow id, verbatim. Same key as the Kubernetes label. */
  static final String TAG_WORKFLOW_ID = Labels.WORKFLOW_ID;

  /** Where the instance works: builds and cache of the shell executor. */
  static final String WORK_DIR = "/var/lib/ephemera";

  private static final List<String> LIVE_STATES =
      List.of(InstanceStateName.PENDING.toString(), InstanceStateName.RUNNING.toString());

  /** Only these may be given a terminate; the others are already going, or gone. */
  private static final List<InstanceStateName> GONE_OR_GOING =
      List.of(InstanceStateName.SHUTTING_DOWN, InstanceStateName.TERMINATED);

  private static final Pattern LABEL_VALUE =
      Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");

  private static final Pattern INSTANCE_TYPE = Pattern.compile("[a-z][a-z0-9-]*\\.[a-z0-9]+");

  private final Ec2Client ec2;
  private final SsmClient ssm;
  private final Ec2RunnerProperties props;
  private final RunnerTokenStore tokens;
  private final Duration defaultMaxLifetime;
  private final URI gitlabUrl;
  private final Clock clock;
  private final Waiting.Sleeper sleeper;

  /**
   * @param ec2 an EC2 client, e.g. from {@link Ec2RunnerClients#ec2}
   * @param ssm an SSM client in the same account and region, e.g. from {@link Ec2RunnerClients#ssm}
   * @param props {@code ephemera.runners.ec2.*}
   * @param tokens where the GitLab adapter keeps runner tokens
   * @param runners {@code ephemera.runners.*}, for the maximum lifetime of routes that set none
   * @param gitlabUrl the GitLab URL ({@code ephemera.gitlab.url}); {@code
   *     ephemera.runners.ec2.gitlab-url}, when set, wins
   */
  public Ec2Runners(
      Ec2Client ec2,
      SsmClient ssm,
      Ec2RunnerProperties props,
      RunnerTokenStore tokens,
      RunnerProperties runners,
      URI gitlabUrl) {
    this(ec2, ssm, props, tokens, runners, gitlabUrl, Clock.systemUTC(), Waiting.Sleeper.REAL);
  }

  Ec2Runners(
      Ec2Client ec2,
      SsmClient ssm,
      Ec2RunnerProperties props,
      RunnerTokenStore tokens,
      RunnerProperties runners,
      URI gitlabUrl,
      Clock clock,
      Waiting.Sleeper sleeper) {
    this.ec2 = Objects.requireNonNull(ec2, "ec2");
    this.ssm = Objects.requireNonNull(ssm, "ssm");
    this.props = Objects.requireNonNull(props, "props");
    this.tokens = Objects.requireNonNull(tokens, "tokens");
    this.defaultMaxLifetime = Objects.requireNonNull(runners, "runners").maxLifetime();
    if (props.gitlabUrl() != null) {
      this.gitlabUrl = props.gitlabUrl();
    } else {
      Objects.requireNonNull(gitlabUrl, "gitlabUrl (or ephemera.runners.ec2.gitlab-url)");
      this.gitlabUrl = RunSingle.gitlabUrl("ephemera.gitlab.url", gitlabUrl.toString());
    }
    this.clock = clock;
    this.sleeper = sleeper;
  }

  /**
   * Starts the workflow's instance, or answers the one already pending or running for it. Writes
   * the token to SSM first: the instance reads it at boot.
   */
  public ComputeRef provision(ProvisionRequest request) {
    String workflowId = validWorkflowId(request.workflowId());
    RunnerRoute route = request.route();
    if (request.waitTimeoutSeconds() < 1) {
      throw FailureType.CloudInvalid.failure(
          "wait timeout must be at least 1 s, was "
              + request.waitTimeoutSeconds()
              + " (0 would make the runner wait forever)");
    }
    Duration maxLifetime = maxLifetime(route);
    String image = route.ami() == null || route.ami().isBlank() ? props.defaultAmi() : route.ami();
    if (image == null) {
      throw FailureType.CloudInvalid.failure(
          "route "
              + route.name()
              + " names no AMI or launch template, and ephemera.runners.ec2.default-ami is unset");
    }
    if (!Ec2RunnerProperties.validImage(image)) {
      throw FailureType.CloudInvalid.failure(
          "route "
              + route.name()
              + ": '"
              + image
              + "' is neither an AMI id (ami-...), a launch template id (lt-...) nor a launch"
              + " template name");
    }
    if (route.instanceType() != null
        && !INSTANCE_TYPE.matcher(route.instanceType().trim()).matches()) {
      throw FailureType.CloudInvalid.failure(
          "route " + route.name() + ": '" + route.instanceType() + "' is not an instance type");
    }

    List<Instance> live = instances(workflowId, LIVE_STATES);
    if (!live.isEmpty()) {
      Instance existing = live.getFirst();
      log.info(
          "Runner instance {} of {} is already {}; not starting another",
          existing.instanceId(),
          workflowId,
          existing.state().nameAsString());
      return new ComputeRef(RunnerType.EC2, existing.instanceId());
    }

    StoredToken token =
        tokens
            .get(request.runnerTokenRef())
            .orElseThrow(
                () ->
                    FailureType.RunnerTokenMissing.failure(
                        "no runner token stored under "
                            + request.runnerTokenRef()
                            + " for "
                            + workflowId
                            + "; the runner must be registered again"));
    String parameter = parameterName(workflowId);
    putToken(parameter, token.token());

    RunInstancesRequest run = runRequest(request, workflowId, image, parameter, maxLifetime);
    var response = call("RunInstances", RUN_PERMISSIONS, () -> ec2.runInstances(run));
    if (!response.hasInstances() || response.instances().isEmpty()) {
      throw FailureType.CloudUnavailable.failure(
          "RunInstances for " + workflowId + " answered no instance");
    }
    Instance instance = response.instances().getFirst();
    log.info(
        "Started runner instance {} ({}, {}) for {}",
        instance.instanceId(),
        instance.instanceTypeAsString(),
        image,
        workflowId);
    return new ComputeRef(RunnerType.EC2, instance.instanceId());
  }

  /**
   * Terminates every instance tagged with the workflow id that is not already going, and deletes
   * the token parameter. Nothing there is success.
   */
  public void terminate(String workflowId) {
    validWorkflowId(workflowId);
    List<String> ids =
        instances(workflowId, null).stream()
            .filter(i -> !GONE_OR_GOING.contains(i.state().name()))
            .map(Instance::instanceId)
            .toList();
    if (!ids.isEmpty()) {
      terminateInstances(workflowId, ids);
    }
    deleteToken(parameterName(workflowId));
  }

  /**
   * Polls, heartbeating, until every instance of the workflow is {@code terminated} (or there is
   * none), up to {@code wait-budget}.
   */
  public boolean awaitTerminated(String workflowId) {
    validWorkflowId(workflowId);
    Instant deadline = clock.instant().plus(props.waitBudget());
    while (true) {
      List<Instance> notYet =
          instances(workflowId, null).stream()
              .filter(i -> i.state().name() != InstanceStateName.TERMINATED)
              .toList();
      if (notYet.isEmpty()) {
        return true;
      }
      String detail =
          notYet.stream()
              .map(i -> i.instanceId() + " " + i.state().nameAsString())
              .collect(Collectors.joining(", "));
      Waiting.heartbeat(detail);
      if (!clock.instant().isBefore(deadline)) {
        log.info(
            "Instances of {} not terminated after {}: {}", workflowId, props.waitBudget(), detail);
        return false;
      }
      sleep(props.pollInterval());
    }
  }

  // ---- requests ----

  private static final String RUN_PERMISSIONS =
      "ec2:RunInstances and ec2:CreateTags (tags at launch), iam:PassRole on the runner instance"
          + " profile's role, and ec2:DescribeLaunchTemplateVersions when routes name launch"
          + " templates";

  RunInstancesRequest runRequest(
      ProvisionRequest request,
      String workflowId,
      String image,
      String parameter,
      Duration maxLifetime) {
    RunnerRoute route = request.route();
    List<Tag> tags =
        List.of(
            tag(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE),
            tag(TAG_WORKFLOW_ID, workflowId),
            tag(Labels.KIND, Labels.KIND_RUNNER),
            tag(Labels.JOB_ID, Long.toString(request.jobId())),
            tag(Labels.PROJECT_ID, Long.toString(request.projectId())),
            tag("Name", "ephemera-" + Names.dns1123Label(workflowId, Names.MAX_LABEL)));
    RunInstancesRequest.Builder b =
        RunInstancesRequest.builder()
            .minCount(1)
            .maxCount(1)
            .clientToken(clientToken(workflowId))
            // Halting the instance (the user data does, after its one job) terminates it.
            .instanceInitiatedShutdownBehavior(ShutdownBehavior.TERMINATE)
            .userData(
                Base64.getEncoder()
                    .encodeToString(
                        userData(workflowId, parameter, request.waitTimeoutSeconds(), maxLifetime)
                            .getBytes(StandardCharsets.UTF_8)))
            // IMDSv2 only: a job that can be tricked into fetching a URL cannot lift the
            // instance role's credentials through plain GETs to the metadata service.
            .metadataOptions(
                InstanceMetadataOptionsRequest.builder()
                    .httpEndpoint(InstanceMetadataEndpointState.ENABLED)
                    .httpTokens(HttpTokensState.REQUIRED)
                    .build())
            .tagSpecifications(
                TagSpecification.builder().resourceType(ResourceType.INSTANCE).tags(tags).build(),
                TagSpecification.builder().resourceType(ResourceType.VOLUME).tags(tags).build());
    String routeType = route.instanceType() == null ? null : route.instanceType().trim();
    if (Ec2RunnerProperties.AMI.matcher(image).matches()) {
      b.imageId(image).instanceType(routeType == null ? props.defaultInstanceType() : routeType);
    } else {
      // A launch template decides what the route does not: its own instance type, and anything
      // below that is not configured here.
      LaunchTemplateSpecification.Builder lt = LaunchTemplateSpecification.builder();
      if (Ec2RunnerProperties.LAUNCH_TEMPLATE_ID.matcher(image).matches()) {
        lt.launchTemplateId(image);
      } else {
        lt.launchTemplateName(image);
      }
      b.launchTemplate(lt.build());
      if (routeType != null) {
        b.instanceType(routeType);
      }
    }
    if (props.subnetId() != null) {
      b.subnetId(props.subnetId());
    }
    if (!props.securityGroupIds().isEmpty()) {
      b.securityGroupIds(props.securityGroupIds());
    }
    if (props.instanceProfile() != null) {
      IamInstanceProfileSpecification.Builder profile = IamInstanceProfileSpecification.builder();
      if (props.instanceProfile().startsWith("arn:")) {
        profile.arn(props.instanceProfile());
      } else {
        profile.name(props.instanceProfile());
      }
      b.iamInstanceProfile(profile.build());
    }
    return b.build();
  }

  /**
   * The boot script. It holds no secret: the token is fetched from SSM with the instance role into
   * the environment variable gitlab-runner reads its {@code --token} from, so it is never on a
   * command line. No {@code set -x}: cloud-init logs the script's output. It assumes an AMI with
   * {@code gitlab-runner} and the AWS CLI installed (Amazon Linux 2023 has the CLI).
   */
  String userData(String workflowId, String parameter, int waitTimeoutSeconds, Duration lifetime) {
    String region = ssm.serviceClientConfiguration().region().id();
    long minutes = Math.max(1, (lifetime.toSeconds() + 59) / 60);
    List<String> runner =
        RunSingle.args(gitlabUrl, props.executor(), waitTimeoutSeconds, WORK_DIR).stream()
            .map(Ec2Runners::shellQuote)
            .toList();
    return String.join(
        "\n",
        "#!/bin/bash",
        "# Ephemera single-use GitLab runner for workflow " + workflowId + ".",
        "# No secret in here: the runner token is read from SSM with the instance role.",
        "set -euo pipefail",
        "# Whatever happens below, halt; with shutdown behaviour 'terminate' that ends the instance.",
        "trap 'shutdown -h now' EXIT",
        "# Backstop: halt at the route's maximum lifetime even if the runner hangs.",
        "shutdown -h +" + minutes + " 'ephemera: runner lifetime reached' || true",
        RunSingle.TOKEN_ENV
            + "=\"$(aws ssm get-parameter --region "
            + shellQuote(region)
            + " --name "
            + shellQuote(parameter)
            + " --with-decryption --query Parameter.Value --output text)\"",
        "export " + RunSingle.TOKEN_ENV,
        "mkdir -p " + WORK_DIR + " && cd " + WORK_DIR,
        String.join(" ", runner),
        "");
  }

  private void putToken(String parameter, String token) {
    PutParameterRequest.Builder put =
        PutParameterRequest.builder()
            .name(parameter)
            .value(token)
            .type(ParameterType.SECURE_STRING)
            // A retry after a re-registration must replace the old token, not fail on it.
            .overwrite(true)
            .description("GitLab runner token of an Ephemera runner workflow");
    if (props.kmsKeyId() != null) {
      put.keyId(props.kmsKeyId());
    }
    call(
        "SSM PutParameter " + parameter,
        "ssm:PutParameter on the parameter"
            + (props.kmsKeyId() == null
                ? ""
                : " and kms:Encrypt/kms:GenerateDataKey on " + props.kmsKeyId()),
        () -> ssm.putParameter(put.build()));
  }

  private void deleteToken(String parameter) {
    try {
      ssm.deleteParameter(r -> r.name(parameter));
      log.info("Deleted runner token parameter {}", parameter);
    } catch (ParameterNotFoundException e) {
      // Already gone, or never written: success.
    } catch (SdkException e) {
      throw AwsErrors.translate(
          e, "SSM DeleteParameter " + parameter, "ssm:DeleteParameter on the parameter");
    }
  }

  private void terminateInstances(String workflowId, List<String> ids) {
    try {
      ec2.terminateInstances(r -> r.instanceIds(ids));
      log.info("Terminating runner instances {} of {}", ids, workflowId);
    } catch (SdkException e) {
      if (!"InvalidInstanceID.NotFound".equals(AwsErrors.code(e))) {
        throw AwsErrors.translate(e, "TerminateInstances " + ids, "ec2:TerminateInstances");
      }
      if (ids.size() > 1) {
        // One unknown id fails the whole call; the others must still go, one by one.
        for (String id : ids) {
          terminateInstances(workflowId, List.of(id));
        }
      }
      // An instance EC2 no longer knows is gone: success.
    }
  }

  /** Instances tagged with the workflow id, all pages, optionally only in the given states. */
  List<Instance> instances(String workflowId, List<String> states) {
    List<Filter> filters = new ArrayList<>();
    filters.add(Filter.builder().name("tag:" + TAG_WORKFLOW_ID).values(workflowId).build());
    if (states != null) {
      filters.add(Filter.builder().name("instance-state-name").values(states).build());
    }
    DescribeInstancesRequest describe =
        DescribeInstancesRequest.builder().filters(filters).maxResults(100).build();
    return call(
        "DescribeInstances",
        "ec2:DescribeInstances",
        () -> {
          List<Instance> all = new ArrayList<>();
          for (DescribeInstancesResponse page : ec2.describeInstancesPaginator(describe)) {
            for (Reservation r : page.reservations()) {
              all.addAll(r.instances());
            }
          }
          return all;
        });
  }

  // ---- errors ----

  private static <T> T call(String action, String permissions, Supplier<T> call) {
    try {
      return call.get();
    } catch (SdkException e) {
      throw AwsErrors.translate(e, action, permissions);
    }
  }

  // ---- names and checks ----

  String parameterName(String workflowId) {
    return props.parameterPrefix() + "/" + Names.labelValue(workflowId);
  }

  /**
   * EC2's idempotency token for RunInstances: the same for every attempt of one workflow run, so a
   * retry whose first answer was lost gets that instance back. The run id is part of it because EC2
   * honours a token long after the instance terminated: a later run of the same workflow id must
   * get a new instance, not the dead one. SHA-256 in hex is 64 characters, EC2's maximum.
   */
  static String clientToken(String workflowId) {
    String runId = Waiting.workflowRunId();
    return sha256(runId.isEmpty() ? workflowId : workflowId + "#" + runId);
  }

  private Duration maxLifetime(RunnerRoute route) {
    Duration d = route.maxLifetime() == null ? defaultMaxLifetime : route.maxLifetime();
    if (d.isNegative() || d.isZero()) {
      throw FailureType.CloudInvalid.failure(
          "route " + route.name() + " has a maximum lifetime of " + d + "; it must be positive");
    }
    return d;
  }

  private static Tag tag(String key, String value) {
    return Tag.builder().key(key).value(value).build();
  }

  private static String validWorkflowId(String workflowId) {
    if (workflowId == null || workflowId.isBlank()) {
      throw FailureType.InvalidName.failure("no workflow id given");
    }
    String label;
    try {
      label = Names.labelValue(workflowId);
    } catch (IllegalArgumentException e) {
      throw FailureType.InvalidName.failure(e.getMessage(), e);
    }
    if (!LABEL_VALUE.matcher(label).matches()) {
      throw FailureType.InvalidName.failure(
          "workflow id " + workflowId + " cannot be written as a tag and parameter name");
    }
    return workflowId;
  }

  private void sleep(Duration d) {
    try {
      sleeper.sleep(d);
    } catch (InterruptedException e) {
      // The worker is shutting down: give the attempt back to Temporal, which retries it elsewhere.
      Thread.currentThread().interrupt();
      throw FailureType.CloudUnavailable.failure("interrupted while waiting", e);
    }
  }

  /** POSIX single quotes: nothing inside is expanded. */
  static String shellQuote(String s) {
    if (s.matches("[A-Za-z0-9_./:=+,@%-]+")) {
      return s;
    }
    return "'" + s.replace("'", "'\"'\"'") + "'";
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JRE", e);
    }
  }
}
