package io.ephemera.sandbox;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatus;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sandbox's Job controller and kubelet for build Jobs: a Job that has existed for {@code
 * buildDelay} gets a pod that "ran" (Succeeded, or Failed when the {@link #failBuilds} predicate
 * says so) with a simulated log, and a finished status, unless the {@link #holdBuilds} predicate
 * holds it running. A successful Job's {@code --destination} is reported as pushed. Nothing runs
 * and no image exists. Driven by {@link SandboxController}'s thread; the predicate and push hook
 * may be set from any thread.
 */
final class SandboxBuilds {
  private static final Logger log = LoggerFactory.getLogger(SandboxBuilds.class);

  private final KubernetesClient client;
  private final Duration buildDelay;
  private final Clock clock;
  private final Map<String, String> logs;
  private volatile Predicate<Job> failing = j -> false;
  private volatile Predicate<Job> holding = j -> false;
  private volatile Consumer<String> pushed = d -> {};

  /** When each unfinished Job (by uid) was first seen; controller thread only. */
  private final Map<String, Instant> seen = new HashMap<>();

  /**
   * @param logs where the simulated pod logs go, by {@code namespace/pod}; the sandbox's API server
   *     serves them
   */
  SandboxBuilds(
      KubernetesClient client, Duration buildDelay, Clock clock, Map<String, String> logs) {
    this.client = client;
    this.buildDelay = buildDelay;
    this.clock = clock;
    this.logs = logs;
  }

  void failBuilds(Predicate<Job> predicate) {
    failing = predicate == null ? j -> false : predicate;
  }

  void holdBuilds(Predicate<Job> predicate) {
    holding = predicate == null ? j -> false : predicate;
  }

  void onPushed(Consumer<String> hook) {
    pushed = hook == null ? d -> {} : hook;
  }

  /**
   * @param jobs the Jobs of live namespaces
   * @param pods every pod, to forget the logs of those that are gone
   */
  void reconcile(List<Job> jobs, List<? extends HasMetadata> pods) {
    // First: the pods listed were listed before this pass creates any, whose logs must stay.
    Set<String> livePods = new HashSet<>();
    for (HasMetadata p : pods) {
      livePods.add(p.getMetadata().getNamespace() + "/" + p.getMetadata().getName());
    }
    logs.keySet().retainAll(livePods);
    Instant now = clock.instant();
    Set<String> present = new HashSet<>();
    for (Job job : jobs) {
      if (finished(job) || holding.test(job)) {
        continue; // a held Job keeps running, and its delay starts when it is let go
      }
      String uid = job.getMetadata().getUid();
      present.add(uid);
      Instant since = seen.computeIfAbsent(uid, k -> now);
      if (!now.isBefore(since.plus(buildDelay))) {
        finish(job, now);
      }
    }
    seen.keySet().retainAll(present);
  }

  private void finish(Job job, Instant now) {
    String ns = job.getMetadata().getNamespace();
    String name = job.getMetadata().getName();
    boolean fail = failing.test(job);
    String destination = destination(job);
    Pod pod = pod(job, fail, now);
    String podName = pod.getMetadata().getName();
    logs.put(ns + "/" + podName, log(destination, fail));
    try {
      client.pods().inNamespace(ns).resource(pod).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
    client.pods().inNamespace(ns).resource(pod).updateStatus();
    if (!fail && destination != null) {
      // Before the Job reports success, as Kaniko pushes before it exits.
      pushed.accept(destination);
    }
    job.setStatus(status(job, fail, now));
    try {
      client.batch().v1().jobs().inNamespace(ns).resource(job).updateStatus();
      log.info("Sandbox: build Job {}/{} {}", ns, name, fail ? "failed (as told)" : "succeeded");
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409 && e.getCode() != 404) {
        throw e;
      }
      // Changed or deleted since listed: the next pass sees the new state.
      log.debug("Job {}/{} changed under the sandbox controller ({})", ns, name, e.getCode());
    }
  }

  private static boolean finished(Job job) {
    JobStatus s = job.getStatus();
    if (s == null || s.getConditions() == null) {
      return false;
    }
    for (JobCondition c : s.getConditions()) {
      if (("Complete".equals(c.getType()) || "Failed".equals(c.getType()))
          && "True".equals(c.getStatus())) {
        return true;
      }
    }
    return false;
  }

  /** The {@code --destination} of the Job's first container, if it names one. */
  static String destination(Job job) {
    PodSpec spec =
        job.getSpec() == null || job.getSpec().getTemplate() == null
            ? null
            : job.getSpec().getTemplate().getSpec();
    if (spec == null || spec.getContainers() == null || spec.getContainers().isEmpty()) {
      return null;
    }
    List<String> args = spec.getContainers().getFirst().getArgs();
    if (args == null) {
      return null;
    }
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.startsWith("--destination=")) {
        return a.substring("--destination=".length());
      }
      if (a.equals("--destination") && i + 1 < args.size()) {
        return args.get(i + 1);
      }
    }
    return null;
  }

  private static Pod pod(Job job, boolean fail, Instant now) {
    String jobName = job.getMetadata().getName();
    String uid = job.getMetadata().getUid();
    // Like the Job controller: the Job's name and a suffix, here derived from the uid so a retried
    // pass finds the same pod.
    String suffix = Integer.toString(Math.abs(uid.hashCode() % 60466176), 36);
    String base = jobName.length() > 57 ? jobName.substring(0, 57) : jobName;
    String podName = base + "-" + "0".repeat(Math.max(0, 5 - suffix.length())) + suffix;
    Map<String, String> labels = new LinkedHashMap<>();
    if (job.getSpec().getTemplate().getMetadata() != null
        && job.getSpec().getTemplate().getMetadata().getLabels() != null) {
      labels.putAll(job.getSpec().getTemplate().getMetadata().getLabels());
    }
    labels.put("batch.kubernetes.io/job-name", jobName);
    labels.put("job-name", jobName);
    labels.put("batch.kubernetes.io/controller-uid", uid);
    PodSpec spec = job.getSpec().getTemplate().getSpec();
    List<ContainerStatus> statuses = new ArrayList<>();
    for (Container c : spec.getContainers()) {
      statuses.add(
          new ContainerStatusBuilder()
              .withName(c.getName())
              .withImage(c.getImage())
              .withReady(false)
              .withRestartCount(0)
              .withNewState()
              .withNewTerminated()
              .withExitCode(fail ? 1 : 0)
              .withReason(fail ? "Error" : "Completed")
              .withStartedAt(now.toString())
              .withFinishedAt(now.toString())
              .endTerminated()
              .endState()
              .build());
    }
    return new PodBuilder()
        .withNewMetadata()
        .withName(podName)
        .withNamespace(job.getMetadata().getNamespace())
        .withLabels(labels)
        .withAnnotations(
            job.getSpec().getTemplate().getMetadata() == null
                ? null
                : job.getSpec().getTemplate().getMetadata().getAnnotations())
        .addNewOwnerReference()
        .withApiVersion("batch/v1")
        .withKind("Job")
        .withName(jobName)
        .withUid(uid)
        .withController(true)
        .withBlockOwnerDeletion(true)
        .endOwnerReference()
        .endMetadata()
        .withSpec(spec)
        .withStatus(
            new PodStatusBuilder()
                .withPhase(fail ? "Failed" : "Succeeded")
                .withStartTime(now.toString())
                .withContainerStatuses(statuses)
                .build())
        .build();
  }

  private static JobStatus status(Job job, boolean fail, Instant now) {
    String at = now.toString();
    JobStatusBuilder s = new JobStatusBuilder().withStartTime(at).withActive(0);
    if (fail) {
      s.withFailed(1)
          .withConditions(
              condition(
                  "FailureTarget",
                  "BackoffLimitExceeded",
                  "Job has reached the specified backoff limit",
                  at),
              condition(
                  "Failed",
                  "BackoffLimitExceeded",
                  "Job has reached the specified backoff limit",
                  at));
    } else {
      s.withSucceeded(1)
          .withCompletionTime(at)
          .withConditions(
              condition(
                  "SuccessCriteriaMet",
                  "CompletionsReached",
                  "Reached expected number of succeeded pods",
                  at),
              condition(
                  "Complete",
                  "CompletionsReached",
                  "Reached expected number of succeeded pods",
                  at));
    }
    return s.build();
  }

  private static JobCondition condition(String type, String reason, String message, String at) {
    return new JobConditionBuilder()
        .withType(type)
        .withStatus("True")
        .withReason(reason)
        .withMessage(message)
        .withLastProbeTime(at)
        .withLastTransitionTime(at)
        .build();
  }

  /** A log shaped like Kaniko's, saying plainly that nothing ran. */
  private static String log(String destination, boolean fail) {
    String d = destination == null ? "(no --destination)" : destination;
    StringBuilder b = new StringBuilder();
    b.append("INFO[0000] Sandbox: nothing runs here; this log is simulated.\n");
    b.append("INFO[0000] Retrieving image manifest of the base image\n");
    b.append("INFO[0000] Built cross stage deps: map[]\n");
    b.append("INFO[0000] Executing 3 build triggers\n");
    b.append("INFO[0001] Taking snapshot of full filesystem...\n");
    if (fail) {
      b.append("INFO[0001] RUN make build\n");
      b.append(
          "error building image: error building stage: failed to execute command:"
              + " sandbox was told to fail this build (SandboxCluster.failBuilds)\n");
    } else {
      b.append("INFO[0001] Pushing image to ").append(d).append('\n');
      b.append("INFO[0001] Pushed ").append(d).append('\n');
    }
    return b.toString();
  }
}
