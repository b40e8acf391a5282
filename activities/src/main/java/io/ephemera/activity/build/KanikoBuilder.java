package io.ephemera.activity.build;

import static io.ephemera.activity.Heartbeats.heartbeat;

import io.ephemera.activity.credentials.SecretKeys;
import io.ephemera.activity.kubernetes.KubernetesErrors;
import io.ephemera.common.FailureType;
import io.ephemera.common.Labels;
import io.ephemera.common.Names;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.temporal.client.ActivityCanceledException;
import io.temporal.failure.ApplicationFailure;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds images with a Kubernetes Job running the Kaniko executor ({@link KanikoJobSpec}); the
 * waiting, log reading and cleanup here work on any {@link BuildJobTemplate}.
 *
 * <p>{@code build}: if no Job of that name exists yet, asks the registry whether it already has the
 * tag (and answers {@code skipped} if so), then creates the Job (an existing one is attached to, so
 * a retry resumes the same build) and waits for it heartbeating. A successful build's pods and
 * credentials Secret are deleted at once and its finished Job is kept, and a skipped build keeps
 * its Secret: a retry whose first answer was lost must find what tells it the outcome (the Job, or
 * the login for the registry check); the workflow's {@code deleteBuild} removes them right after. A
 * failed build throws {@code BuildFailed} ending with the last lines of its log and is deleted; a
 * build still running after the wait budget throws the retryable {@code BuildPending}; a cancelled
 * build (a newer push) is deleted.
 *
 * <p>Secrets: the credentials Secret is read here (for the tag check) and nowhere returned, logged
 * or put into a message; its values are scrubbed from the log tail before it goes into a failure.
 */
public class KanikoBuilder implements BuildActivities {
  private static final Logger log = LoggerFactory.getLogger(KanikoBuilder.class);

  private static final Pattern LABEL_VALUE =
      Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");
  private static final Pattern SHA = Pattern.compile("[0-9a-f]{7,64}");

  /**
   * The first pause between Job reads; pauses double up to {@code ephemera.build.poll-interval}.
   */
  static final Duration FIRST_POLL = Duration.ofMillis(100);

  /** A failure message carries at most this much log: Temporal keeps it in history. */
  private static final int MAX_TAIL_CHARS = 8_000;

  static final String REDACTED = "[redacted]";

  /** Pauses the calling thread; a seam so tests can skip time. */
  @FunctionalInterface
  interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  private final KubernetesClient client;
  private final BuildProperties props;
  private final BuildJobTemplate template;
  private final RegistryTagCheck registry;
  private final Clock clock;
  private final Sleeper sleeper;

  public KanikoBuilder(KubernetesClient client, BuildProperties props) {
    this(
        client,
        props,
        new KanikoJobSpec(props),
        new RegistryTagCheck(props.registry()),
        Clock.systemUTC(),
        d -> Thread.sleep(d));
  }

  KanikoBuilder(
      KubernetesClient client,
      BuildProperties props,
      BuildJobTemplate template,
      RegistryTagCheck registry,
      Clock clock,
      Sleeper sleeper) {
    this.client = client;
    this.props = props;
    this.template = template;
    this.registry = registry;
    this.clock = clock;
    this.sleeper = sleeper;
  }

  @Override
  public BuildResult build(BuildRequest request) {
    ImageRef image = validate(request);
    Job job = getJob(request);
    if (job != null) {
      requireOwned(job, request);
      log.info("Build {} in {}: attaching to its Job", request.name(), request.namespace());
    } else {
      Optional<Secret> secret = readSecret(request);
      if (tagExists(request, image, secret)) {
        log.info(
            "Build {}: {} is already in the registry, nothing to build",
            request.name(),
            request.destination());
        // The Secret stays until the workflow's deleteBuild: a retry whose first answer was lost
        // needs its registry login to find the tag again (without it the check cannot tell).
        return new BuildResult(request.destination(), true);
      }
      if (secret.isEmpty()) {
        throw FailureType.BuildFailed.failure(
            "build "
                + request.name()
                + ": the credentials Secret "
                + request.credentialsSecret()
                + " does not exist in namespace "
                + request.namespace()
                + "; the credentials step must write it before the build");
      }
      job = create(request);
    }
    Outcome outcome;
    try {
      outcome = await(request);
    } catch (ActivityCanceledException e) {
      log.info("Build {} cancelled: deleting its Job", request.name());
      cleanupQuietly(request, "cancelled");
      throw e;
    }
    if (outcome.succeeded()) {
      // The credentials and pods go now; the finished Job stays as the record of the outcome, so
      // that a retry whose first answer was lost (a worker gone, a timed-out call) attaches to it
      // and succeeds again instead of finding nothing. The workflow's deleteBuild removes it.
      deletePodsAndSecret(request);
      return new BuildResult(request.destination(), false);
    }
    String message = failureMessage(request, outcome);
    cleanupQuietly(request, "failed");
    throw FailureType.BuildFailed.failure(message);
  }

  @Override
  public void deleteBuild(BuildRequest request) {
    requireName("namespace", request.namespace());
    requireName("build name", request.name());
    requireName("credentials Secret", request.credentialsSecret());
    validWorkflowId(request.workflowId());
    cleanup(request);
  }

  // ---- the registry check ----

  /** Whether the registry has the tag; a check that cannot tell is logged and answers no. */
  private boolean tagExists(BuildRequest request, ImageRef image, Optional<Secret> secret) {
    try {
      DockerConfig config =
          secret
              .map(s -> decode(s, SecretKeys.DOCKER_CONFIG))
              .map(DockerConfig::parse)
              .orElse(null);
      Optional<DockerConfig.Login> login =
          config == null ? Optional.empty() : config.loginFor(image.registry());
      return registry.exists(image, login);
    } catch (RegistryTagCheck.CheckFailed | IllegalArgumentException e) {
      log.warn(
          "Build {}: could not tell whether {} exists ({}); building it",
          request.name(),
          image,
          e.getMessage());
      return false;
    }
  }

  private Optional<Secret> readSecret(BuildRequest request) {
    try {
      return Optional.ofNullable(
          client
              .secrets()
              .inNamespace(request.namespace())
              .withName(request.credentialsSecret())
              .get());
    } catch (KubernetesClientException e) {
      throw KubernetesErrors.translate(
          e, List.of("get"), Secret.class, request.credentialsSecret(), request.namespace());
    }
  }

  private static byte[] decode(Secret secret, String key) {
    Map<String, String> data = secret.getData();
    String value = data == null ? null : data.get(key);
    if (value == null) {
      Map<String, String> plain = secret.getStringData();
      String s = plain == null ? null : plain.get(key);
      return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }
    return Base64.getDecoder().decode(value);
  }

  // ---- the Job ----

  private Job create(BuildRequest request) {
    Job desired = template.job(request);
    try {
      Job created = client.resource(desired).create();
      log.info(
          "Build {} in {}: Job created for {}",
          request.name(),
          request.namespace(),
          request.destination());
      return created;
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw KubernetesErrors.translate(
            e, List.of("create"), Job.class, request.name(), request.namespace());
      }
    }
    // Created in between (a retry whose first answer was lost): attach to it.
    Job existing = getJob(request);
    if (existing == null) {
      throw FailureType.KubernetesUnavailable.failure(
          "Job " + request.name() + " in " + request.namespace() + " vanished while created");
    }
    requireOwned(existing, request);
    return existing;
  }

  private record Outcome(boolean succeeded, String reason) {}

  private Outcome await(BuildRequest request) {
    Instant deadline = clock.instant().plus(props.waitBudget());
    // Quick first reads: a build whose cached layers make it finish in a second (or a sandbox
    // build) is seen at once, while a long one settles at poll-interval after a few reads.
    Duration pause =
        FIRST_POLL.compareTo(props.pollInterval()) < 0 ? FIRST_POLL : props.pollInterval();
    while (true) {
      Job job = getJob(request);
      if (job == null) {
        // Deleted by someone or by its TTL: the next attempt checks the registry again and
        // rebuilds only if the image is not there.
        throw FailureType.BuildPending.failure(
            "build "
                + request.name()
                + ": its Job in "
                + request.namespace()
                + " disappeared while waiting; the next attempt checks the registry again");
      }
      JobStatus status = job.getStatus();
      JobCondition failed = condition(status, "Failed");
      if (failed != null) {
        return new Outcome(false, describe(failed));
      }
      if (condition(status, "Complete") != null
          || (status != null && status.getSucceeded() != null && status.getSucceeded() > 0)) {
        return new Outcome(true, "succeeded");
      }
      if (status != null && status.getFailed() != null && status.getFailed() > 0) {
        return new Outcome(false, "its pod failed");
      }
      String progress = progress(request, status);
      heartbeat(progress);
      if (!clock.instant().isBefore(deadline)) {
        throw FailureType.BuildPending.failure(
            "build "
                + request.name()
                + " of "
                + request.destination()
                + " not finished after "
                + props.waitBudget()
                + ": "
                + progress);
      }
      Duration left = Duration.between(clock.instant(), deadline);
      sleep(pause.compareTo(left) < 0 ? pause : left);
      pause = pause.multipliedBy(2);
      if (pause.compareTo(props.pollInterval()) > 0) {
        pause = props.pollInterval();
      }
    }
  }

  private static JobCondition condition(JobStatus status, String type) {
    if (status == null || status.getConditions() == null) {
      return null;
    }
    for (JobCondition c : status.getConditions()) {
      if (type.equals(c.getType()) && "True".equals(c.getStatus())) {
        return c;
      }
    }
    return null;
  }

  private static String describe(JobCondition c) {
    String reason = c.getReason() == null ? "Failed" : c.getReason();
    return c.getMessage() == null ? reason : reason + ": " + c.getMessage();
  }

  private static String progress(BuildRequest request, JobStatus status) {
    Integer active = status == null ? null : status.getActive();
    return "build "
        + request.name()
        + (active != null && active > 0 ? " running" : " waiting for its pod");
  }

  // ---- failure message ----

  private String failureMessage(BuildRequest request, Outcome outcome) {
    StringBuilder m =
        new StringBuilder("build ")
            .append(request.name())
            .append(" of ")
            .append(request.destination())
            .append(" failed: ")
            .append(outcome.reason());
    Pod pod = latestPod(request);
    if (pod == null) {
      return m.append(". No build pod is left to read a log from.").toString();
    }
    String exit = exitOf(pod);
    if (exit != null) {
      m.append("; ").append(exit);
    }
    String tail;
    try {
      tail =
          client
              .pods()
              .inNamespace(request.namespace())
              .withName(pod.getMetadata().getName())
              .inContainer(template.containerName())
              .tailingLines(props.logTailLines())
              .getLog();
    } catch (KubernetesClientException e) {
      return m.append(". The build log could not be read (HTTP ")
          .append(e.getCode())
          .append(").")
          .toString();
    }
    tail = scrub(tail == null ? "" : tail.stripTrailing(), secretValues(request));
    if (tail.length() > MAX_TAIL_CHARS) {
      tail = "…" + tail.substring(tail.length() - MAX_TAIL_CHARS);
    }
    return m.append(". Last lines of the build log:\n").append(tail).toString();
  }

  private Pod latestPod(BuildRequest request) {
    try {
      return podsOf(request).list().getItems().stream()
          .max(
              Comparator.comparing(
                  (Pod p) ->
                      p.getMetadata().getCreationTimestamp() == null
                          ? ""
                          : p.getMetadata().getCreationTimestamp()))
          .orElse(null);
    } catch (KubernetesClientException e) {
      log.warn("Build {}: cannot list its pods (HTTP {})", request.name(), e.getCode());
      return null;
    }
  }

  private String exitOf(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return null;
    }
    for (ContainerStatus cs : pod.getStatus().getContainerStatuses()) {
      if (!template.containerName().equals(cs.getName())
          || cs.getState() == null
          || cs.getState().getTerminated() == null) {
        continue;
      }
      ContainerStateTerminated t = cs.getState().getTerminated();
      return "container "
          + cs.getName()
          + " exited with code "
          + t.getExitCode()
          + (t.getReason() == null ? "" : " (" + t.getReason() + ")");
    }
    return null;
  }

  /** The values of the credentials Secret: none of them may leave in a failure message. */
  private List<String> secretValues(BuildRequest request) {
    List<String> values = new ArrayList<>();
    Optional<Secret> secret;
    try {
      secret = readSecret(request);
    } catch (ApplicationFailure e) {
      log.warn("Build {}: cannot read its Secret to scrub the log tail", request.name());
      return values;
    }
    if (secret.isEmpty()) {
      return values;
    }
    Map<String, String> data = secret.get().getData();
    if (data != null) {
      for (String key : data.keySet()) {
        byte[] raw = decode(secret.get(), key);
        if (raw != null) {
          values.add(new String(raw, StandardCharsets.UTF_8));
        }
      }
    }
    byte[] docker = decode(secret.get(), SecretKeys.DOCKER_CONFIG);
    if (docker != null) {
      try {
        values.addAll(DockerConfig.parse(docker).secretValues());
      } catch (IllegalArgumentException e) {
        // Not a Docker config: its raw value is scrubbed already.
      }
    }
    return values;
  }

  static String scrub(String text, List<String> secrets) {
    String out = text;
    List<String> longestFirst = new ArrayList<>(secrets);
    longestFirst.sort(Comparator.comparingInt(String::length).reversed());
    for (String s : longestFirst) {
      // Very short values would blank out ordinary words; no issued credential is that short.
      if (s != null && s.length() >= 6) {
        out = out.replace(s, REDACTED);
      }
    }
    return out;
  }

  // ---- cleanup ----

  /** Deletes the Job (background propagation), its pods and the Secret; absent is success. */
  private void cleanup(BuildRequest request) {
    Job job = getJob(request);
    if (job != null && !ownedBy(job, request)) {
      log.warn(
          "Job {} in {} belongs to another workflow; left alone",
          request.name(),
          request.namespace());
    } else if (job != null) {
      try {
        client
            .batch()
            .v1()
            .jobs()
            .inNamespace(request.namespace())
            .withName(request.name())
            .withPropagationPolicy(DeletionPropagation.BACKGROUND)
            .delete();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 404) {
          throw KubernetesErrors.translate(
              e, List.of("delete"), Job.class, request.name(), request.namespace());
        }
      }
    }
    deletePodsAndSecret(request);
  }

  /** The build's pods and its credentials Secret; absent is success. */
  private void deletePodsAndSecret(BuildRequest request) {
    // Explicitly, not only through the Job's garbage collection: a cluster without it (the
    // sandbox, the mock) or a Job deleted with orphaning would leave them.
    try {
      podsOf(request).delete();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw KubernetesErrors.translate(
            e, List.of("list", "delete"), Pod.class, request.name() + "-*", request.namespace());
      }
    }
    deleteSecret(request);
  }

  private void deleteSecret(BuildRequest request) {
    String name = request.credentialsSecret();
    try {
      Secret s = client.secrets().inNamespace(request.namespace()).withName(name).get();
      if (s == null) {
        return;
      }
      String owner =
          s.getMetadata().getLabels() == null
              ? null
              : s.getMetadata().getLabels().get(Labels.WORKFLOW_ID);
      if (owner != null && !owner.equals(Names.labelValue(request.workflowId()))) {
        log.warn(
            "Secret {} in {} belongs to another workflow; left alone", name, request.namespace());
        return;
      }
      client.secrets().inNamespace(request.namespace()).withName(name).delete();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw KubernetesErrors.translate(
            e, List.of("get", "delete"), Secret.class, name, request.namespace());
      }
    }
  }

  /**
   * After a failed or cancelled build the outcome is what the workflow needs; a cleanup that fails
   * here is logged, and the workflow's {@code deleteBuild} (and the Job's TTL) finish it.
   */
  private void cleanupQuietly(BuildRequest request, String why) {
    try {
      cleanup(request);
    } catch (ApplicationFailure e) {
      log.warn(
          "Build {} {}, and cleaning it up failed ({}); deleteBuild finishes it",
          request.name(),
          why,
          e.getType());
    }
  }

  private io.fabric8.kubernetes.client.dsl.FilterWatchListDeletable<
          Pod,
          io.fabric8.kubernetes.api.model.PodList,
          io.fabric8.kubernetes.client.dsl.PodResource>
      podsOf(BuildRequest request) {
    return client
        .pods()
        .inNamespace(request.namespace())
        .withLabel(BuildLabels.BUILD, request.name())
        .withLabel(Labels.WORKFLOW_ID, Names.labelValue(request.workflowId()));
  }

  private Job getJob(BuildRequest request) {
    try {
      return client
          .batch()
          .v1()
          .jobs()
          .inNamespace(request.namespace())
          .withName(request.name())
          .get();
    } catch (KubernetesClientException e) {
      throw KubernetesErrors.translate(
          e, List.of("get"), Job.class, request.name(), request.namespace());
    }
  }

  // ---- ownership and validation ----

  private static boolean ownedBy(HasMetadata o, BuildRequest request) {
    Map<String, String> labels = o.getMetadata().getLabels();
    return labels != null
        && Labels.MANAGED_BY_VALUE.equals(labels.get(Labels.MANAGED_BY))
        && Names.labelValue(request.workflowId()).equals(labels.get(Labels.WORKFLOW_ID));
  }

  /** A Job of that name must be this workflow's build of this commit to be attached to. */
  private static void requireOwned(Job job, BuildRequest request) {
    if (!ownedBy(job, request)) {
      throw FailureType.InvalidName.failure(
          "Job "
              + request.name()
              + " in namespace "
              + request.namespace()
              + " exists and is not this workflow's build; refusing to attach to it");
    }
    String sha = job.getMetadata().getLabels().get(Labels.SHA);
    if (sha != null && !sha.equals(BuildLabels.shaLabel(request.sha()))) {
      throw FailureType.InvalidName.failure(
          "Job "
              + request.name()
              + " in namespace "
              + request.namespace()
              + " builds commit "
              + sha
              + ", not "
              + request.sha()
              + "; build names must be unique per commit");
    }
  }

  private static ImageRef validate(BuildRequest r) {
    requireName("namespace", r.namespace());
    requireName("build name", r.name());
    validWorkflowId(r.workflowId());
    if (r.sha() == null || !SHA.matcher(r.sha()).matches()) {
      throw FailureType.InvalidName.failure(
          "commit sha " + (r.sha() == null ? "null" : "'" + r.sha() + "'") + " is not a git sha");
    }
    // A GitLab path (the webhook already refused others): nothing a git context could misread.
    if (!Names.isGitLabProjectPath(r.projectPath())) {
      throw FailureType.InvalidName.failure(
          "project path "
              + (r.projectPath() == null ? "null" : "'" + r.projectPath() + "'")
              + " is not a GitLab project path");
    }
    requireName("credentials Secret", r.credentialsSecret());
    try {
      return ImageRef.parse(r.destination());
    } catch (IllegalArgumentException e) {
      throw FailureType.InvalidName.failure(e.getMessage(), e);
    }
  }

  private static void requireName(String what, String name) {
    if (!Names.isDns1123Label(name)) {
      throw FailureType.InvalidName.failure(
          what + " " + (name == null ? "null" : "'" + name + "'") + " is not a DNS-1123 label");
    }
  }

  private static void validWorkflowId(String workflowId) {
    if (workflowId == null || workflowId.isBlank()) {
      throw FailureType.InvalidName.failure("no workflow id given");
    }
    try {
      if (!LABEL_VALUE.matcher(Names.labelValue(workflowId)).matches()) {
        throw FailureType.InvalidName.failure(
            "workflow id " + workflowId + " cannot be written as a label value");
      }
    } catch (IllegalArgumentException e) {
      throw FailureType.InvalidName.failure(e.getMessage(), e);
    }
  }

  // ---- time and heartbeats ----

  private void sleep(Duration d) {
    try {
      sleeper.sleep(d);
    } catch (InterruptedException e) {
      // The worker is shutting down: the next attempt, elsewhere, re-attaches to the Job.
      Thread.currentThread().interrupt();
      throw FailureType.BuildPending.failure("interrupted while waiting for the build", e);
    }
  }
}
