package io.ephemera.activity.kubernetes;

import static io.ephemera.activity.Heartbeats.heartbeat;
import static io.ephemera.activity.kubernetes.ReviewAppManifests.APP;
import static io.ephemera.activity.kubernetes.ReviewAppManifests.APP_NAME_LABEL;

import io.ephemera.common.FailureType;
import io.ephemera.common.Labels;
import io.ephemera.common.Names;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kubernetes side of a review app, through Fabric8. Writes are create-or-update (create, and on
 * "already exists" an update laid over the live object, see {@link ObjectOverlay}), never
 * server-side apply, so the same code runs against any API server and the sandbox. Every operation
 * is idempotent; errors are typed in {@link KubernetesErrors}.
 *
 * <p>A namespace is the unit of ownership: Ephemera only adopts, changes or deletes one that
 * carries its managed-by label, so a name clash can never make it destroy someone else's work.
 *
 * <p>Clients: namespaces, their policies and teardown use the worker's own client. The review app's
 * workload (applyWorkload's Deployment, Service and Ingress, awaitRollout's reads) goes through
 * {@link NamespaceClients}, which with {@code ephemera.vault.deploy.kubernetes} configured is a
 * client on the deploy's own Kubernetes token ({@link DeployTokenClients}). Teardown cannot use
 * that token: it is revoked first.
 */
public class KubernetesActivitiesImpl implements KubernetesActivities {
  private static final Logger log = LoggerFactory.getLogger(KubernetesActivitiesImpl.class);

  /** Label values: alphanumerics, '-', '_' and '.', starting and ending with an alphanumeric. */
  private static final Pattern LABEL_VALUE =
      Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");

  /** Waiting reasons that no amount of waiting cures; anything else may still resolve itself. */
  private static final Set<String> PERMANENT_WAITING_REASONS = Set.of("InvalidImageName");

  private static final int WRITE_ATTEMPTS = 3;

  /** Pauses the calling thread; a seam so tests can skip time. */
  @FunctionalInterface
  interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  private final KubernetesClient client;
  private final NamespaceClients workloadClients;
  private final KubernetesProperties props;
  private final ReviewAppManifests manifests;
  private final Clock clock;

  /**
   * The first pause of awaitRollout; pauses double up to {@code rollout-poll-interval}. A rollout
   * that is done in a moment (image cached, one replica) is seen in a moment, instead of a whole
   * interval after it finished: the lifecycle benchmark measured 2 s of its 2.3 s open-to-READY in
   * that one sleep. Slow rollouts cost five extra GETs.
   */
  static final Duration FIRST_ROLLOUT_POLL = Duration.ofMillis(100);

  private final Sleeper sleeper;
  private volatile boolean podDiagnosticsForbidden;

  public KubernetesActivitiesImpl(KubernetesClient client, KubernetesProperties props) {
    this(client, NamespaceClients.worker(client), props);
  }

  /**
   * @param client the worker's own client
   * @param workloadClients the client that writes and reads the workload inside a review namespace
   */
  public KubernetesActivitiesImpl(
      KubernetesClient client, NamespaceClients workloadClients, KubernetesProperties props) {
    this(client, workloadClients, props, Clock.systemUTC(), d -> Thread.sleep(d));
  }

  KubernetesActivitiesImpl(
      KubernetesClient client, KubernetesProperties props, Clock clock, Sleeper sleeper) {
    this(client, NamespaceClients.worker(client), props, clock, sleeper);
  }

  KubernetesActivitiesImpl(
      KubernetesClient client,
      NamespaceClients workloadClients,
      KubernetesProperties props,
      Clock clock,
      Sleeper sleeper) {
    this.client = client;
    this.workloadClients = workloadClients;
    this.props = props;
    this.manifests = new ReviewAppManifests(props);
    this.clock = clock;
    this.sleeper = sleeper;
  }

  @Override
  public List<String> ensureNamespace(NamespaceSpec spec) {
    String ns = validNamespace(spec.namespace());
    validWorkflowId(spec.workflowId());
    Namespace existing = get(Namespace.class, ns, null);
    if (existing != null) {
      requireOwnedBy(existing, spec.workflowId());
      if (existing.getMetadata().getDeletionTimestamp() != null) {
        // The previous teardown has not finished; the API server would refuse every object we
        // create in it. Once it is gone, a retry recreates it from scratch.
        throw FailureType.KubernetesUnavailable.failure(
            "namespace "
                + ns
                + " is still terminating (since "
                + existing.getMetadata().getDeletionTimestamp()
                + "); retrying until it is gone");
      }
    }
    List<String> objects = new ArrayList<>();
    objects.add(upsert(manifests.namespace(spec)));
    objects.add(upsert(manifests.quota(spec)));
    objects.add(upsert(manifests.limits(spec)));
    objects.add(upsert(manifests.defaultDeny(spec)));
    objects.add(upsert(manifests.allowFromIngress(spec)));
    return List.copyOf(objects);
  }

  @Override
  public List<String> applyWorkload(WorkloadSpec spec) {
    String ns = validNamespace(spec.namespace());
    validWorkflowId(spec.workflowId());
    String sha = shaLabel(spec.sha());
    if (spec.image() == null || spec.image().isBlank()) {
      throw FailureType.KubernetesInvalid.failure("no image given for namespace " + ns);
    }
    if (spec.host() == null || spec.host().isBlank()) {
      throw FailureType.KubernetesInvalid.failure("no Ingress host given for namespace " + ns);
    }
    // Creating in a namespace we do not own, or one being torn down, must not happen: ensure it.
    Namespace namespace = get(Namespace.class, ns, null);
    if (namespace == null || namespace.getMetadata().getDeletionTimestamp() != null) {
      throw FailureType.KubernetesUnavailable.failure(
          "namespace " + ns + " does not exist or is terminating; ensureNamespace must run first");
    }
    requireOwnedBy(namespace, spec.workflowId());
    KubernetesClient workload = workloadClients.forNamespace(ns);
    List<String> objects = new ArrayList<>();
    objects.add(upsert(workload, manifests.deployment(spec, sha)));
    objects.add(upsert(workload, manifests.service(spec)));
    objects.add(upsert(workload, manifests.ingress(spec)));
    return List.copyOf(objects);
  }

  /**
   * A Deployment that is absent while we wait fails the rollout for good ({@code RolloutFailed}).
   * It is not a read-after-write race: the API server reads from etcd with quorum, so a Deployment
   * that applyWorkload created is visible to the next GET. Absent means it was deleted (teardown or
   * a person), and waiting cannot bring it back; only a new deploy, which applies it again, can.
   */
  @Override
  public RolloutResult awaitRollout(RolloutRequest request) {
    String ns = validNamespace(request.namespace());
    String sha = shaLabel(request.sha());
    Instant deadline = clock.instant().plus(props.rolloutWaitBudget());
    Duration pause = min(FIRST_ROLLOUT_POLL, props.rolloutPollInterval());
    KubernetesClient workload = workloadClients.forNamespace(ns);
    while (true) {
      Deployment d = get(workload, Deployment.class, APP, ns);
      if (d == null) {
        throw FailureType.RolloutFailed.failure(
            "rollout of "
                + sha
                + " in namespace "
                + ns
                + " failed: Deployment "
                + APP
                + " does not exist (deleted while waiting); the next deploy recreates it");
      }
      RolloutCheck check = RolloutCheck.of(d, sha);
      if (check instanceof RolloutCheck.Done done) {
        return new RolloutResult(done.readyReplicas());
      }
      if (check instanceof RolloutCheck.Failed failed) {
        throw FailureType.RolloutFailed.failure(
            "rollout of " + sha + " in namespace " + ns + " failed: " + failed.reason());
      }
      String progress = ((RolloutCheck.Pending) check).progress() + podTrouble(workload, ns, sha);
      heartbeat(progress);
      if (!clock.instant().isBefore(deadline)) {
        throw FailureType.RolloutPending.failure(
            "rollout of "
                + sha
                + " in namespace "
                + ns
                + " not finished after "
                + props.rolloutWaitBudget()
                + ": "
                + progress);
      }
      sleep(min(pause, Duration.between(clock.instant(), deadline)));
      pause = min(pause.multipliedBy(2), props.rolloutPollInterval());
    }
  }

  @Override
  public void deleteIngress(String namespace) {
    String ns = validNamespace(namespace);
    if (ownedNamespaceExists(ns)) {
      delete(Ingress.class, APP, ns);
    }
  }

  @Override
  public void deleteWorkloads(String namespace) {
    String ns = validNamespace(namespace);
    if (ownedNamespaceExists(ns)) {
      delete(Deployment.class, APP, ns);
      delete(Service.class, APP, ns);
    }
  }

  @Override
  public void deleteNamespace(String namespace) {
    String ns = validNamespace(namespace);
    if (ownedNamespaceExists(ns)) {
      delete(Namespace.class, ns, null);
    }
    workloadClients.release(ns);
  }

  /**
   * A namespace that exists but is not being deleted at all is answered at once: nothing would
   * remove it while we wait, and the workflow's next deleteNamespace is what helps.
   */
  @Override
  public NamespaceState awaitNamespaceGone(String namespace) {
    String ns = validNamespace(namespace);
    Instant deadline = clock.instant().plus(props.namespaceWaitBudget());
    while (true) {
      Namespace n = get(Namespace.class, ns, null);
      if (n == null) {
        return NamespaceState.goneNow();
      }
      String deletion = n.getMetadata().getDeletionTimestamp();
      Instant since = deletion == null ? null : parseTimestamp(deletion, ns);
      heartbeat(
          "namespace "
              + ns
              + (deletion == null ? " is not being deleted" : " terminating since " + deletion));
      if (deletion == null || !clock.instant().isBefore(deadline)) {
        return new NamespaceState(false, since);
      }
      sleep(props.namespacePollInterval());
    }
  }

  // ---- writes, reads and deletes, each translating errors in one place ----

  /**
   * Creates the object or, when it exists, lays ours over it. Retried a few times in place on a
   * conflict (someone wrote in between) or a vanished object (deleted in between), both of which a
   * fresh read resolves.
   */
  private <T extends HasMetadata> String upsert(T desired) {
    return upsert(client, desired);
  }

  private <T extends HasMetadata> String upsert(KubernetesClient client, T desired) {
    @SuppressWarnings("unchecked")
    Class<T> type = (Class<T>) desired.getClass();
    String name = desired.getMetadata().getName();
    String ns = desired.getMetadata().getNamespace();
    for (int attempt = 1; ; attempt++) {
      try {
        try {
          client.resource(desired).create();
        } catch (KubernetesClientException e) {
          if (e.getCode() != 409) {
            throw e;
          }
          resource(client, type, name, ns)
              .edit(
                  current ->
                      ObjectOverlay.overlay(
                          current, desired, type, client.getKubernetesSerialization()));
        }
        return ns == null
            ? HasMetadata.getKind(type) + "/" + name
            : HasMetadata.getKind(type) + "/" + ns + "/" + name;
      } catch (KubernetesClientException e) {
        boolean fresherReadHelps = e.getCode() == 409 || e.getCode() == 404;
        if (!fresherReadHelps || attempt >= WRITE_ATTEMPTS) {
          throw KubernetesErrors.translate(e, List.of("get", "create", "patch"), type, name, ns);
        }
        log.debug(
            "Retrying write of {} {}/{} after HTTP {}",
            type.getSimpleName(),
            ns,
            name,
            e.getCode());
      }
    }
  }

  private <T extends HasMetadata> T get(Class<T> type, String name, String ns) {
    return get(client, type, name, ns);
  }

  private <T extends HasMetadata> T get(
      KubernetesClient client, Class<T> type, String name, String ns) {
    try {
      return resource(client, type, name, ns).get();
    } catch (KubernetesClientException e) {
      throw KubernetesErrors.translate(e, List.of("get"), type, name, ns);
    }
  }

  private <T extends HasMetadata> void delete(Class<T> type, String name, String ns) {
    try {
      // Fabric8 answers an absent object (HTTP 404) with an empty list: already gone is success.
      resource(client, type, name, ns).delete();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return;
      }
      throw KubernetesErrors.translate(e, List.of("delete"), type, name, ns);
    }
  }

  private static <T extends HasMetadata> Resource<T> resource(
      KubernetesClient client, Class<T> type, String name, String ns) {
    return ns == null
        ? client.resources(type).withName(name)
        : client.resources(type).inNamespace(ns).withName(name);
  }

  // ---- ownership ----

  private boolean ownedNamespaceExists(String ns) {
    Namespace n = get(Namespace.class, ns, null);
    if (n == null) {
      return false;
    }
    if (!managedByUs(n)) {
      log.warn(
          "Namespace {} exists but is not labelled {}={}: it is not ours, so it is left alone",
          ns,
          Labels.MANAGED_BY,
          Labels.MANAGED_BY_VALUE);
      return false;
    }
    return true;
  }

  private static void requireOwnedBy(Namespace n, String workflowId) {
    String ns = n.getMetadata().getName();
    if (!managedByUs(n)) {
      throw FailureType.InvalidName.failure(
          "namespace "
              + ns
              + " already exists and is not managed by Ephemera (no "
              + Labels.MANAGED_BY
              + "="
              + Labels.MANAGED_BY_VALUE
              + " label); refusing to adopt it. Delete or rename it, or label it if it is ours");
    }
    Map<String, String> labels = n.getMetadata().getLabels();
    String owner = labels.get(Labels.WORKFLOW_ID);
    if (owner != null && !owner.equals(Names.labelValue(workflowId))) {
      throw FailureType.InvalidName.failure(
          "namespace "
              + ns
              + " belongs to workflow "
              + Names.workflowIdFromLabel(owner)
              + ", not "
              + workflowId
              + "; refusing to take it over");
    }
  }

  private static boolean managedByUs(Namespace n) {
    Map<String, String> labels = n.getMetadata().getLabels();
    return labels != null && Labels.MANAGED_BY_VALUE.equals(labels.get(Labels.MANAGED_BY));
  }

  // ---- rollout diagnostics ----

  /**
   * Why the new pods are not ready, when their containers say so (an image that cannot be pulled, a
   * crash loop): this is what a person needs to read in the workflow's last error. Best effort: a
   * ServiceAccount without "list pods" only loses the detail.
   */
  private String podTrouble(KubernetesClient client, String ns, String sha) {
    if (podDiagnosticsForbidden) {
      return "";
    }
    List<Pod> pods;
    try {
      pods =
          client
              .pods()
              .inNamespace(ns)
              .withLabel(APP_NAME_LABEL, APP)
              .withLabel(Labels.SHA, sha)
              .list()
              .getItems();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 401 || e.getCode() == 403) {
        podDiagnosticsForbidden = true;
        log.warn("Cannot list pods ({}); rollout messages will lack pod details", e.getCode());
      } else {
        log.debug("Listing pods of {} failed: {}", ns, e.getMessage());
      }
      return "";
    }
    Set<String> reasons = new TreeSet<>();
    for (Pod pod : pods) {
      if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
        continue;
      }
      for (ContainerStatus cs : pod.getStatus().getContainerStatuses()) {
        if (cs.getState() == null || cs.getState().getWaiting() == null) {
          continue;
        }
        String reason = cs.getState().getWaiting().getReason();
        String message = cs.getState().getWaiting().getMessage();
        if (reason == null) {
          continue;
        }
        if (PERMANENT_WAITING_REASONS.contains(reason)) {
          throw FailureType.RolloutFailed.failure(
              "rollout of "
                  + sha
                  + " in namespace "
                  + ns
                  + " failed: container "
                  + cs.getName()
                  + " is "
                  + reason
                  + (message == null ? "" : " (" + message + ")"));
        }
        reasons.add(reason + (message == null ? "" : ": " + message));
      }
    }
    return reasons.isEmpty() ? "" : "; pods waiting: " + String.join("; ", reasons);
  }

  // ---- validation, time and heartbeats ----

  private static String validNamespace(String ns) {
    if (!Names.isDns1123Label(ns)) {
      throw FailureType.InvalidName.failure(
          "namespace name " + (ns == null ? "null" : "'" + ns + "'") + " is not a DNS-1123 label");
    }
    return ns;
  }

  private static void validWorkflowId(String workflowId) {
    if (workflowId == null || workflowId.isBlank()) {
      throw FailureType.InvalidName.failure("no workflow id given");
    }
    try {
      String label = Names.labelValue(workflowId);
      if (!LABEL_VALUE.matcher(label).matches()) {
        throw FailureType.InvalidName.failure(
            "workflow id " + workflowId + " cannot be written as a label value");
      }
    } catch (IllegalArgumentException e) {
      throw FailureType.InvalidName.failure(e.getMessage(), e);
    }
  }

  /**
   * The sha as a label value. A SHA-256 repository's 64 hex digits exceed the 63 a label may hold;
   * 63 of them are just as unique in practice.
   */
  static String shaLabel(String sha) {
    if (sha == null || !LABEL_VALUE.matcher(sha).matches()) {
      throw FailureType.InvalidName.failure(
          "commit sha " + (sha == null ? "null" : "'" + sha + "'") + " cannot be a label value");
    }
    return sha.length() > Names.MAX_LABEL ? sha.substring(0, Names.MAX_LABEL) : sha;
  }

  private Instant parseTimestamp(String timestamp, String ns) {
    try {
      return OffsetDateTime.parse(timestamp).toInstant();
    } catch (DateTimeParseException e) {
      log.warn("Namespace {} has an unreadable deletionTimestamp '{}'", ns, timestamp);
      return null;
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private void sleep(Duration d) {
    try {
      sleeper.sleep(d);
    } catch (InterruptedException e) {
      // The worker is shutting down: give the attempt back to Temporal, which retries it elsewhere.
      Thread.currentThread().interrupt();
      throw FailureType.KubernetesUnavailable.failure("interrupted while waiting", e);
    }
  }
}
