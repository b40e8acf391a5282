package io.ephemera.sandbox;

import io.ephemera.common.Labels;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sandbox's stand-in for the controllers a cluster runs, polling rather than watching because a
 * pass costs a dozen loopback requests and is simple to make robust. It does two things:
 *
 * <ul>
 *   <li>Deployment controller and kubelet in one: a Deployment whose template and replica count
 *       have stayed unchanged for {@code rolloutDelay} gets a finished rollout written to its
 *       status. Changing the template (a new sha) restarts the delay.
 *   <li>Namespace controller: objects of a namespace that is gone or terminating are deleted.
 *   <li>Job controller and kubelet for builds: see {@link SandboxBuilds}.
 * </ul>
 *
 * One daemon thread; a failing pass is logged and the next one runs anyway.
 */
final class SandboxController implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SandboxController.class);
  static final String THREAD_NAME = "sandbox-cluster-controller";
  private static final long PERIOD_MILLIS = 100;

  private final KubernetesClient client;
  private final Duration rolloutDelay;
  private final Clock clock;
  private final Runnable afterPass;
  private final SandboxBuilds builds;
  private final ScheduledExecutorService executor;

  /**
   * When each Deployment's current template was first seen; touched by the controller thread only.
   */
  private final Map<String, Seen> seen = new HashMap<>();

  private boolean failing;
  private volatile boolean closing;

  /**
   * Every rollout started, for {@link SandboxCluster#rollouts()}; the oldest are dropped beyond
   * {@link #MAX_ROLLOUTS}, so a sandbox running for days stays small. Guarded by itself.
   */
  private final ArrayDeque<SandboxCluster.Rollout> rollouts = new ArrayDeque<>();

  static final int MAX_ROLLOUTS = 100_000;

  private record Seen(String fingerprint, Instant since) {}

  SandboxController(
      KubernetesClient client,
      Duration rolloutDelay,
      Clock clock,
      Runnable afterPass,
      SandboxBuilds builds) {
    this.client = client;
    this.builds = builds;
    this.rolloutDelay = rolloutDelay;
    this.clock = clock;
    this.afterPass = afterPass;
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, THREAD_NAME);
              t.setDaemon(true);
              return t;
            });
  }

  List<SandboxCluster.Rollout> rollouts() {
    synchronized (rollouts) {
      return List.copyOf(rollouts);
    }
  }

  void start() {
    executor.scheduleWithFixedDelay(this::pass, 0, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    closing = true;
    executor.shutdownNow();
    try {
      if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
        log.warn("{} did not stop within 5 s", THREAD_NAME);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One pass. Never throws: an escaping exception would silently cancel the schedule. */
  void pass() {
    try {
      reconcile();
      if (failing) {
        log.info("Sandbox controller recovered");
        failing = false;
      }
    } catch (Throwable t) {
      if (t instanceof VirtualMachineError) {
        throw (VirtualMachineError) t;
      }
      if (closing) {
        // close() interrupted a request in flight: expected, not worth a warning.
        return;
      }
      // Once per run of failures, not ten times a second.
      if (!failing) {
        log.warn("Sandbox controller pass failed; retrying every {} ms", PERIOD_MILLIS, t);
        failing = true;
      } else {
        log.debug("Sandbox controller pass failed again", t);
      }
    } finally {
      afterPass.run();
    }
  }

  private void reconcile() {
    // Objects first, namespaces second: a namespace is created before its objects, so any object
    // listed here had its namespace already, and will find it in the later namespace listing. In
    // the other order a namespace created in between would look missing and lose its objects.
    Map<SandboxKinds.Kind<?>, List<? extends HasMetadata>> objects = new HashMap<>();
    for (SandboxKinds.Kind<?> kind : SandboxKinds.ALL) {
      objects.put(kind, kind.listAll(client));
    }
    Set<String> live = new HashSet<>();
    for (Namespace n : client.namespaces().list().getItems()) {
      if (n.getMetadata().getDeletionTimestamp() == null) {
        live.add(n.getMetadata().getName());
      }
    }
    for (Map.Entry<SandboxKinds.Kind<?>, List<? extends HasMetadata>> e : objects.entrySet()) {
      for (HasMetadata o : e.getValue()) {
        String ns = o.getMetadata().getNamespace();
        if (!live.contains(ns)) {
          log.debug(
              "Namespace {} is gone or terminating: deleting {} {}",
              ns,
              e.getKey().name(),
              o.getMetadata().getName());
          e.getKey().delete(client, ns, o.getMetadata().getName());
        }
      }
    }
    List<Deployment> deployments = new ArrayList<>();
    for (HasMetadata o : objects.get(SandboxKinds.DEPLOYMENTS)) {
      if (o instanceof Deployment d && live.contains(d.getMetadata().getNamespace())) {
        deployments.add(d);
      }
    }
    rollOut(deployments);
    List<Job> jobs = new ArrayList<>();
    for (HasMetadata o : objects.get(SandboxKinds.JOBS)) {
      if (o instanceof Job j && live.contains(j.getMetadata().getNamespace())) {
        jobs.add(j);
      }
    }
    builds.reconcile(jobs, objects.get(SandboxKinds.PODS));
  }

  private void rollOut(List<Deployment> deployments) {
    Instant now = clock.instant();
    Set<String> present = new HashSet<>();
    for (Deployment d : deployments) {
      String key = d.getMetadata().getNamespace() + "/" + d.getMetadata().getName();
      present.add(key);
      String fingerprint = fingerprint(d);
      Seen s = seen.get(key);
      if (s == null || !s.fingerprint().equals(fingerprint)) {
        s = new Seen(fingerprint, now);
        seen.put(key, s);
        recordRollout(d, now);
      }
      if (now.isBefore(s.since().plus(rolloutDelay)) || rolledOut(d)) {
        continue;
      }
      d.setStatus(finishedRollout(d, now));
      try {
        client
            .apps()
            .deployments()
            .inNamespace(d.getMetadata().getNamespace())
            .resource(d)
            .updateStatus();
        log.info("Sandbox: Deployment {} rolled out", key);
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 && e.getCode() != 404) {
          throw e;
        }
        // Changed or deleted since we listed it: the next pass sees the new state.
        log.debug("Deployment {} changed under the sandbox controller ({})", key, e.getCode());
      }
    }
    seen.keySet().retainAll(present);
  }

  private void recordRollout(Deployment d, Instant now) {
    var template = d.getSpec() == null ? null : d.getSpec().getTemplate();
    Map<String, String> labels =
        template == null || template.getMetadata() == null
            ? null
            : template.getMetadata().getLabels();
    synchronized (rollouts) {
      rollouts.addLast(
          new SandboxCluster.Rollout(
              d.getMetadata().getNamespace(),
              d.getMetadata().getName(),
              labels == null ? null : labels.get(Labels.SHA),
              now));
      while (rollouts.size() > MAX_ROLLOUTS) {
        rollouts.removeFirst();
      }
    }
  }

  /**
   * What a rollout depends on: a recreated Deployment (new uid), a new pod template or a new
   * replica count all start it over. Status and metadata changes do not.
   */
  private String fingerprint(Deployment d) {
    Object template = d.getSpec() == null ? null : d.getSpec().getTemplate();
    Integer replicas = d.getSpec() == null ? null : d.getSpec().getReplicas();
    return d.getMetadata().getUid()
        + "|"
        + replicas
        + "|"
        + client.getKubernetesSerialization().asJson(template);
  }

  private static int wanted(Deployment d) {
    return d.getSpec() == null || d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
  }

  private static long generation(Deployment d) {
    Long g = d.getMetadata().getGeneration();
    return g == null ? 1L : g;
  }

  private static boolean rolledOut(Deployment d) {
    DeploymentStatus s = d.getStatus();
    int n = wanted(d);
    return s != null
        && Objects.equals(s.getObservedGeneration(), generation(d))
        && Objects.equals(s.getReplicas(), n)
        && Objects.equals(s.getUpdatedReplicas(), n)
        && Objects.equals(s.getReadyReplicas(), n)
        && Objects.equals(s.getAvailableReplicas(), n);
  }

  private static DeploymentStatus finishedRollout(Deployment d, Instant now) {
    int n = wanted(d);
    String at = now.toString();
    return new DeploymentStatusBuilder()
        .withObservedGeneration(generation(d))
        .withReplicas(n)
        .withUpdatedReplicas(n)
        .withReadyReplicas(n)
        .withAvailableReplicas(n)
        .addNewCondition()
        .withType("Available")
        .withStatus("True")
        .withReason("MinimumReplicasAvailable")
        .withMessage("Sandbox: nothing runs, the rollout is simulated.")
        .withLastUpdateTime(at)
        .withLastTransitionTime(at)
        .endCondition()
        .addNewCondition()
        .withType("Progressing")
        .withStatus("True")
        .withReason("NewReplicaSetAvailable")
        .withMessage("Sandbox: rollout simulated after the configured delay.")
        .withLastUpdateTime(at)
        .withLastTransitionTime(at)
        .endCondition()
        .build();
  }
}
