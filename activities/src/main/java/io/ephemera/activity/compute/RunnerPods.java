package io.ephemera.activity.compute;

import io.ephemera.activity.config.RunnerProperties;
import io.ephemera.activity.gitlab.RunnerTokenStore;
import io.ephemera.activity.gitlab.RunnerTokenStore.StoredToken;
import io.ephemera.common.FailureType;
import io.ephemera.common.Labels;
import io.ephemera.common.Names;
import io.ephemera.runner.RunnerRoute;
import io.ephemera.runner.RunnerType;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Single-use runners as Kubernetes pods, through Fabric8.
 *
 * <p>A bare Pod with {@code restartPolicy: Never}, not a Job: a Job's controller would start a
 * second pod after an eviction or a node loss, a second runner on the same token that could take
 * another job; a bare pod that dies stays dead, and the workflow (job-state polls, lifetime cap)
 * notices. A pod also has everything needed here: {@code activeDeadlineSeconds} as a lifetime
 * backstop, labels to be found by, and no controller to clean up after.
 *
 * <p>The runner token goes from the token store into a per-workflow Secret, and into the container
 * only through {@code env.valueFrom.secretKeyRef} as {@code CI_SERVER_TOKEN}, the variable {@code
 * gitlab-runner} reads {@code --token} from: it is in no pod spec, command line, log, result or
 * exception. The Secret is labelled like the pod and deleted with it by {@link #terminate}; it also
 * gets the pod as owner, so a real cluster's garbage collector removes it should a terminate never
 * come.
 */
public class RunnerPods {
  private static final Logger log = LoggerFactory.getLogger(RunnerPods.class);

  static final String CONTAINER = "runner";
  static final String TOKEN_KEY = "token";
  static final String WORK_DIR = "/home/ephemera";

  /** Annotation with the GitLab runner id, for people reading the pod. */
  static final String RUNNER_ID_ANNOTATION = "ephemera.io/runner-id";

  private static final Pattern LABEL_VALUE =
      Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");

  private final KubernetesClient client;
  private final RunnerPodProperties props;
  private final RunnerTokenStore tokens;
  private final Duration defaultMaxLifetime;
  private final URI gitlabUrl;
  private final Clock clock;
  private final Waiting.Sleeper sleeper;

  /**
   * @param client the cluster runner pods run in
   * @param props {@code ephemera.runners.kubernetes.*}
   * @param tokens where the GitLab adapter keeps runner tokens
   * @param runners {@code ephemera.runners.*}, for the maximum lifetime of routes that set none
   * @param gitlabUrl the GitLab URL ({@code ephemera.gitlab.url}); {@code
   *     ephemera.runners.kubernetes.gitlab-url}, when set, wins
   */
  public RunnerPods(
      KubernetesClient client,
      RunnerPodProperties props,
      RunnerTokenStore tokens,
      RunnerProperties runners,
      URI gitlabUrl) {
    this(client, props, tokens, runners, gitlabUrl, Clock.systemUTC(), Waiting.Sleeper.REAL);
  }

  RunnerPods(
      KubernetesClient client,
      RunnerPodProperties props,
      RunnerTokenStore tokens,
      RunnerProperties runners,
      URI gitlabUrl,
      Clock clock,
      Waiting.Sleeper sleeper) {
    this.client = Objects.requireNonNull(client, "client");
    this.props = Objects.requireNonNull(props, "props");
    this.tokens = Objects.requireNonNull(tokens, "tokens");
    this.defaultMaxLifetime = Objects.requireNonNull(runners, "runners").maxLifetime();
    if (props.gitlabUrl() != null) {
      this.gitlabUrl = props.gitlabUrl();
    } else {
      Objects.requireNonNull(gitlabUrl, "gitlabUrl (or ephemera.runners.kubernetes.gitlab-url)");
      this.gitlabUrl = RunSingle.gitlabUrl("ephemera.gitlab.url", gitlabUrl.toString());
    }
    this.clock = clock;
    this.sleeper = sleeper;
  }

  /** Starts the workflow's runner pod, or answers the one that already exists. */
  public ComputeRef provision(ProvisionRequest request) {
    String workflowId = request.workflowId();
    String label = validWorkflowLabel(workflowId);
    String ns = props.namespace();
    RunnerRoute route = request.route();
    if (request.waitTimeoutSeconds() < 1) {
      throw FailureType.KubernetesInvalid.failure(
          "wait timeout must be at least 1 s, was "
              + request.waitTimeoutSeconds()
              + " (0 would make the runner wait forever)");
    }
    String cpu = routeQuantity(route, "cpu", route.cpu(), props.cpu());
    String memory = routeQuantity(route, "memory", route.memory(), props.memory());
    Duration lifetime = route.maxLifetime() == null ? defaultMaxLifetime : route.maxLifetime();
    if (lifetime.isNegative() || lifetime.isZero()) {
      throw FailureType.KubernetesInvalid.failure(
          "route "
              + route.name()
              + " has a maximum lifetime of "
              + lifetime
              + "; it must be positive");
    }

    Pod existing = findPod(label);
    if (existing != null) {
      if (existing.getMetadata().getDeletionTimestamp() != null) {
        // A pod of an earlier run of this workflow id is still going; its name is taken until then.
        throw FailureType.KubernetesUnavailable.failure(
            "runner pod " + ns + "/" + existing.getMetadata().getName() + " is still terminating");
      }
      log.info(
          "Runner pod {}/{} of {} exists already",
          ns,
          existing.getMetadata().getName(),
          workflowId);
      return ref(existing);
    }

    ensureNamespace(ns);
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
    Map<String, String> labels = labels(request, label);
    String secretName = secretName(workflowId);
    upsertSecret(ns, secretName, labels, workflowId, token.token());

    Pod pod = pod(request, labels, secretName, cpu, memory, lifetime);
    Pod created;
    try {
      created = client.pods().inNamespace(ns).resource(pod).create();
      log.info("Created runner pod {}/{} for {}", ns, pod.getMetadata().getName(), workflowId);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw translate(e, "create", "pods", ns, pod.getMetadata().getName());
      }
      // Created by an earlier attempt whose answer was lost, or a name clash.
      created =
          get(
              () -> client.pods().inNamespace(ns).withName(pod.getMetadata().getName()).get(),
              "get",
              "pods",
              ns,
              pod.getMetadata().getName());
      Map<String, String> found = created == null ? null : created.getMetadata().getLabels();
      if (found == null || !label.equals(found.get(Labels.WORKFLOW_ID))) {
        // Someone else's pod under our name: never adopt or replace it (as with namespaces).
        throw FailureType.InvalidName.failure(
            "pod "
                + ns
                + "/"
                + pod.getMetadata().getName()
                + " exists and does not belong to workflow "
                + workflowId
                + "; refusing to take it over");
      }
    }
    ownSecretByPod(ns, secretName, created);
    return ref(created);
  }

  /** Deletes the workflow's pods and token Secrets; nothing there is success. */
  public void terminate(String workflowId) {
    String label = validWorkflowLabel(workflowId);
    String ns = props.namespace();
    for (Pod p : pods(label)) {
      delete(
          () -> client.pods().inNamespace(ns).withName(p.getMetadata().getName()).delete(),
          "pods",
          ns,
          p.getMetadata().getName());
      log.info("Deleted runner pod {}/{} of {}", ns, p.getMetadata().getName(), workflowId);
    }
    List<Secret> secrets =
        get(
            () ->
                client
                    .secrets()
                    .inNamespace(ns)
                    .withLabel(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
                    .withLabel(Labels.WORKFLOW_ID, label)
                    .list()
                    .getItems(),
            "list",
            "secrets",
            ns,
            null);
    for (Secret s : secrets) {
      delete(
          () -> client.secrets().inNamespace(ns).withName(s.getMetadata().getName()).delete(),
          "secrets",
          ns,
          s.getMetadata().getName());
    }
  }

  /** Polls, heartbeating, until no pod of the workflow remains, up to {@code wait-budget}. */
  public boolean awaitTerminated(String workflowId) {
    String label = validWorkflowLabel(workflowId);
    Instant deadline = clock.instant().plus(props.waitBudget());
    while (true) {
      List<Pod> left = pods(label);
      if (left.isEmpty()) {
        return true;
      }
      String detail =
          left.stream()
              .map(p -> p.getMetadata().getName() + " " + phase(p))
              .collect(Collectors.joining(", "));
      Waiting.heartbeat(detail);
      if (!clock.instant().isBefore(deadline)) {
        log.info(
            "Runner pods of {} still there after {}: {}", workflowId, props.waitBudget(), detail);
        return false;
      }
      sleep(props.pollInterval());
    }
  }

  // ---- objects ----

  Pod pod(
      ProvisionRequest request,
      Map<String, String> labels,
      String secretName,
      String cpu,
      String memory,
      Duration lifetime) {
    String image =
        request.route().image() == null || request.route().image().isBlank()
            ? props.image()
            : request.route().image().trim();
    Map<String, Quantity> resources =
        Map.of("cpu", new Quantity(cpu), "memory", new Quantity(memory));
    List<String> command =
        RunSingle.args(gitlabUrl, props.executor(), request.waitTimeoutSeconds(), WORK_DIR);
    return new PodBuilder()
        .withNewMetadata()
        .withName(podName(request.workflowId()))
        .withNamespace(props.namespace())
        .withLabels(labels)
        .addToAnnotations(Labels.WORKFLOW_ID_ANNOTATION, request.workflowId())
        .addToAnnotations(RUNNER_ID_ANNOTATION, Long.toString(request.runnerId()))
        .endMetadata()
        .withNewSpec()
        // One job, then exit: never restarted, by the kubelet or anyone else.
        .withRestartPolicy("Never")
        // The runner talks to GitLab only; a job must not inherit a cluster identity.
        .withAutomountServiceAccountToken(false)
        // Service environment variables would leak the namespace's services into every job.
        .withEnableServiceLinks(false)
        // The backstop should the workflow be lost: the kubelet kills the pod at the route's
        // maximum lifetime, counted from the pod's start (so never before the workflow's own cap).
        .withActiveDeadlineSeconds(Math.max(1, lifetime.toSeconds()))
        .withNewSecurityContext()
        .withRunAsNonRoot(true)
        .withRunAsUser(props.runAsUser())
        .withRunAsGroup(props.runAsUser())
        .withFsGroup(props.runAsUser())
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .endSecurityContext()
        .addNewContainer()
        .withName(CONTAINER)
        .withImage(image)
        // Explicit, not the image's entrypoint: a route's own image may have another one, and the
        // official entrypoint's CA-certificate step needs root.
        .withCommand(command)
        .addNewEnv()
        .withName(RunSingle.TOKEN_ENV)
        .withNewValueFrom()
        .withNewSecretKeyRef()
        .withName(secretName)
        .withKey(TOKEN_KEY)
        .withOptional(false)
        .endSecretKeyRef()
        .endValueFrom()
        .endEnv()
        .addNewEnv()
        .withName("HOME")
        .withValue(WORK_DIR)
        .endEnv()
        .withWorkingDir(WORK_DIR)
        .withNewResources()
        // Requests equal to limits: the pod gets the Guaranteed QoS class, so a busy node does not
        // evict a runner halfway through a job.
        .withRequests(resources)
        .withLimits(resources)
        .endResources()
        // The root filesystem stays writable: shell jobs write to /tmp and the like, and as a
        // non-root user without capabilities they cannot touch anything that matters.
        .withNewSecurityContext()
        .withAllowPrivilegeEscalation(false)
        .withPrivileged(false)
        .withNewCapabilities()
        .withDrop("ALL")
        .endCapabilities()
        .endSecurityContext()
        .addNewVolumeMount()
        .withName("work")
        .withMountPath(WORK_DIR)
        .endVolumeMount()
        .endContainer()
        // The runner's home, builds and cache: writable for the non-root user, gone with the pod.
        .addNewVolume()
        .withName("work")
        .withNewEmptyDir()
        .endEmptyDir()
        .endVolume()
        .endSpec()
        .build();
  }

  private Map<String, String> labels(ProvisionRequest request, String workflowLabel) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE);
    labels.put(Labels.WORKFLOW_ID, workflowLabel);
    labels.put(Labels.KIND, Labels.KIND_RUNNER);
    labels.put(Labels.JOB_ID, Long.toString(request.jobId()));
    labels.put(Labels.PROJECT_ID, Long.toString(request.projectId()));
    return labels;
  }

  private void upsertSecret(
      String ns, String name, Map<String, String> labels, String workflowId, String token) {
    String encoded = Base64.getEncoder().encodeToString(token.getBytes(StandardCharsets.UTF_8));
    Secret secret =
        new SecretBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(ns)
            .withLabels(labels)
            .addToAnnotations(Labels.WORKFLOW_ID_ANNOTATION, workflowId)
            .endMetadata()
            .withType("Opaque")
            .addToData(TOKEN_KEY, encoded)
            .build();
    try {
      client.secrets().inNamespace(ns).resource(secret).create();
      return;
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw translate(e, "create", "secrets", ns, name);
      }
    }
    // Left by an earlier attempt: make sure it holds the current token (a re-registered runner
    // has a new one). Exceptions carry the Secret's name only, never its data.
    try {
      client
          .secrets()
          .inNamespace(ns)
          .withName(name)
          .edit(s -> new SecretBuilder(s).withData(Map.of(TOKEN_KEY, encoded)).build());
    } catch (KubernetesClientException e) {
      throw translate(e, "patch", "secrets", ns, name);
    }
  }

  /**
   * Best effort: with the pod as owner, a real cluster deletes the Secret with the pod. Failing
   * here loses nothing, since {@link #terminate} deletes the Secret by its labels anyway.
   */
  private void ownSecretByPod(String ns, String secretName, Pod pod) {
    String uid = pod.getMetadata().getUid();
    if (uid == null) {
      return;
    }
    try {
      client
          .secrets()
          .inNamespace(ns)
          .withName(secretName)
          .edit(
              s ->
                  new SecretBuilder(s)
                      .editMetadata()
                      .withOwnerReferences(
                          new OwnerReferenceBuilder()
                              .withApiVersion("v1")
                              .withKind("Pod")
                              .withName(pod.getMetadata().getName())
                              .withUid(uid)
                              .build())
                      .endMetadata()
                      .build());
    } catch (KubernetesClientException e) {
      log.warn(
          "Could not make pod {}/{} the owner of Secret {} (HTTP {}); terminate deletes it anyway",
          ns,
          pod.getMetadata().getName(),
          secretName,
          e.getCode());
    }
  }

  private void ensureNamespace(String ns) {
    Namespace existing =
        get(() -> client.namespaces().withName(ns).get(), "get", "namespaces", null, ns);
    if (existing != null) {
      return;
    }
    Namespace namespace =
        new NamespaceBuilder()
            .withNewMetadata()
            .withName(ns)
            .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
            .addToLabels(Labels.KIND, Labels.KIND_RUNNER)
            .endMetadata()
            .build();
    try {
      client.namespaces().resource(namespace).create();
      log.info("Created runner namespace {}", ns);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw translate(e, "create", "namespaces", null, ns);
      }
    }
  }

  private Pod findPod(String label) {
    List<Pod> pods = pods(label);
    return pods.isEmpty() ? null : pods.getFirst();
  }

  /**
   * Pods of the workflow. Equality selectors only: some API servers' fakes ignore set-based ones.
   */
  private List<Pod> pods(String label) {
    String ns = props.namespace();
    return get(
        () ->
            client
                .pods()
                .inNamespace(ns)
                .withLabel(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
                .withLabel(Labels.WORKFLOW_ID, label)
                .list()
                .getItems(),
        "list",
        "pods",
        ns,
        null);
  }

  private ComputeRef ref(Pod pod) {
    return new ComputeRef(
        RunnerType.KUBERNETES,
        pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName());
  }

  static String podName(String workflowId) {
    return Names.dns1123Label(workflowId, Names.MAX_LABEL);
  }

  static String secretName(String workflowId) {
    // Room for the suffix: the hash, when there is one, still tells two long ids apart.
    return Names.dns1123Label(workflowId, Names.MAX_LABEL - 6) + "-token";
  }

  private static String phase(Pod p) {
    if (p.getMetadata().getDeletionTimestamp() != null) {
      return "Terminating";
    }
    return p.getStatus() == null || p.getStatus().getPhase() == null
        ? "Pending"
        : p.getStatus().getPhase();
  }

  // ---- checks, errors, time ----

  private static String routeQuantity(
      RunnerRoute route, String what, String value, String fallback) {
    if (value == null || value.isBlank()) {
      return fallback;
    }
    if (!RunnerPodProperties.validQuantity(value.trim())) {
      throw FailureType.KubernetesInvalid.failure(
          "route " + route.name() + ": " + what + " '" + value + "' is not a Kubernetes quantity");
    }
    return value.trim();
  }

  private static String validWorkflowLabel(String workflowId) {
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
          "workflow id " + workflowId + " cannot be written as a label value");
    }
    return label;
  }

  private static <T> T get(Supplier<T> call, String verb, String resource, String ns, String name) {
    try {
      return call.get();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404 && "get".equals(verb)) {
        return null;
      }
      throw translate(e, verb, resource, ns, name);
    }
  }

  private static void delete(Runnable call, String resource, String ns, String name) {
    try {
      call.run();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return; // already gone: success
      }
      throw translate(e, "delete", resource, ns, name);
    }
  }

  /**
   * The cluster's answer as a typed failure: 401/403 → {@code KubernetesForbidden} naming the RBAC
   * rule the worker needs; other 4xx except 404/409/429 → {@code KubernetesInvalid}; the rest (404,
   * 409, 429, 5xx, no answer) → retryable {@code KubernetesUnavailable}. Messages name the object,
   * never a Secret's data (Fabric8's messages hold none).
   */
  static io.temporal.failure.ApplicationFailure translate(
      KubernetesClientException e, String verb, String resource, String ns, String name) {
    int code = e.getCode();
    String target =
        verb
            + " of "
            + resource
            + (name == null ? "" : " " + name)
            + (ns == null ? "" : " in namespace " + ns);
    String server =
        e.getStatus() == null || e.getStatus().getMessage() == null
            ? ""
            : ". Server said: " + truncate(e.getStatus().getMessage());
    if (code == 401 || code == 403) {
      return FailureType.KubernetesForbidden.failure(
          target
              + " failed (HTTP "
              + code
              + "). The worker's ServiceAccount needs "
              + verb
              + " on "
              + resource
              + (ns == null ? " (cluster-scoped)" : " in the runners namespace " + ns)
              + server,
          e);
    }
    if (code >= 400 && code < 500 && code != 404 && code != 409 && code != 429) {
      return FailureType.KubernetesInvalid.failure(
          target + " failed: the cluster rejected it (HTTP " + code + ")" + server, e);
    }
    String what =
        code <= 0 ? "the cluster could not be reached" : "the cluster answered HTTP " + code;
    return FailureType.KubernetesUnavailable.failure(target + " failed: " + what + server, e);
  }

  private static String truncate(String m) {
    return m.length() > 300 ? m.substring(0, 300) + "…" : m;
  }

  private void sleep(Duration d) {
    try {
      sleeper.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw FailureType.KubernetesUnavailable.failure("interrupted while waiting", e);
    }
  }
}
