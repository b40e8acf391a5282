package io.ephemera.activity.gitlab;

import io.ephemera.common.FailureType;
import io.ephemera.common.Labels;
import io.ephemera.common.Names;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.temporal.failure.ApplicationFailure;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runner tokens in Kubernetes Secrets: one Secret per runner workflow in the runners namespace,
 * which is exactly where a runner pod mounts it from, so a token goes from GitLab's answer to the
 * runner without ever passing through Temporal. EC2 runners read it through the same reference.
 *
 * <p>The Secret is named from the workflow id ({@code runner-token-runner-42-job-7}), labelled
 * managed-by, workflow-id and kind=runner for the reaper, annotated with the workflow id verbatim
 * and the runner id, and holds the token under {@code token}. References look like {@code
 * k8s-secret:<namespace>/<name>}. Writes are create-or-replace (the Secret is Ephemera's alone, so
 * replacing it wholesale loses nothing); the namespace is created, labelled managed-by, when
 * missing. Errors are typed as the Kubernetes adapter's: 401/403 {@code KubernetesForbidden}, 422
 * {@code KubernetesInvalid}, the rest {@code KubernetesUnavailable} (retryable). Nothing here logs
 * or prints a token.
 *
 * <p>RBAC: secrets get/create/update/delete in the runners namespace; namespaces get/create
 * (cluster scope) unless the namespace is created beforehand.
 */
public final class KubernetesSecretTokenStore implements RunnerTokenStore {
  private static final Logger log = LoggerFactory.getLogger(KubernetesSecretTokenStore.class);

  /** The namespace runners live in when {@code ephemera.runners.namespace} is not set. */
  public static final String DEFAULT_NAMESPACE = "ephemera-runners";

  public static final String REF_PREFIX = "k8s-secret:";
  public static final String TOKEN_KEY = "token";
  public static final String RUNNER_ID_ANNOTATION = "ephemera.io/runner-id";

  private final KubernetesClient client;
  private final String namespace;
  private volatile boolean namespaceEnsured;

  /**
   * @param namespace the runners namespace ({@code ephemera.runners.namespace}); blank means {@link
   *     #DEFAULT_NAMESPACE}
   */
  public KubernetesSecretTokenStore(KubernetesClient client, String namespace) {
    this.client = Objects.requireNonNull(client, "client");
    String ns = namespace == null || namespace.isBlank() ? DEFAULT_NAMESPACE : namespace.trim();
    if (!Names.isDns1123Label(ns)) {
      throw new IllegalArgumentException("runners namespace is not a DNS-1123 label: " + ns);
    }
    this.namespace = ns;
  }

  /** The Secret holding the token of {@code workflowId}. */
  public static String secretName(String workflowId) {
    return Names.dns1123Label("runner-token-" + workflowId, Names.MAX_LABEL);
  }

  public String namespace() {
    return namespace;
  }

  @Override
  public String put(String workflowId, long runnerId, String token) {
    Objects.requireNonNull(workflowId, "workflowId");
    if (token == null || token.isBlank()) {
      throw new IllegalArgumentException("no token to store for " + workflowId);
    }
    String name = secretName(workflowId);
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE);
    labels.put(Labels.WORKFLOW_ID, Names.labelValue(workflowId));
    labels.put(Labels.KIND, Labels.KIND_RUNNER);
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(Labels.WORKFLOW_ID_ANNOTATION, workflowId);
    annotations.put(RUNNER_ID_ANNOTATION, Long.toString(runnerId));
    Secret secret =
        new SecretBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .withLabels(labels)
            .withAnnotations(annotations)
            .endMetadata()
            .withType("Opaque")
            .withData(Map.of(TOKEN_KEY, base64(token)))
            .build();
    try {
      ensureNamespace();
      Secret live = read(name);
      if (live != null && !workflowId.equals(annotation(live, Labels.WORKFLOW_ID_ANNOTATION))) {
        // Names are derived from ids that cannot collide; refuse rather than overwrite if they do.
        throw FailureType.InvalidName.failure(
            "Secret "
                + name
                + " in "
                + namespace
                + " belongs to another workflow, not "
                + workflowId);
      }
      write(secret);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw translate(e, "create/update", name);
      }
      // The namespace vanished under us; make it again, once.
      namespaceEnsured = false;
      try {
        ensureNamespace();
        write(secret);
      } catch (KubernetesClientException again) {
        throw translate(again, "create/update", name);
      }
    }
    log.info(
        "Stored the runner token of {} (runner {}) in Secret {}/{}",
        workflowId,
        runnerId,
        namespace,
        name);
    return REF_PREFIX + namespace + "/" + name;
  }

  @Override
  public Optional<StoredToken> get(String ref) {
    String name = nameOf(ref);
    try {
      return stored(read(name), null);
    } catch (KubernetesClientException e) {
      throw translate(e, "get", name);
    }
  }

  @Override
  public Optional<StoredToken> find(String workflowId) {
    String name = secretName(workflowId);
    try {
      return stored(read(name), workflowId);
    } catch (KubernetesClientException e) {
      throw translate(e, "get", name);
    }
  }

  @Override
  public void delete(String workflowId) {
    String name = secretName(workflowId);
    try {
      Secret live = read(name);
      if (live == null || !workflowId.equals(annotation(live, Labels.WORKFLOW_ID_ANNOTATION))) {
        return;
      }
      // A delete of something already gone answers an empty list, not an error.
      client.secrets().inNamespace(namespace).withName(name).delete();
      log.info("Deleted the runner token Secret {}/{} of {}", namespace, name, workflowId);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return;
      }
      throw translate(e, "delete", name);
    }
  }

  private void write(Secret secret) {
    client.secrets().inNamespace(namespace).resource(secret).createOr(NonDeletingOperation::update);
  }

  private Secret read(String name) {
    return client.secrets().inNamespace(namespace).withName(name).get();
  }

  private void ensureNamespace() {
    if (namespaceEnsured) {
      return;
    }
    if (client.namespaces().withName(namespace).get() == null) {
      try {
        client
            .namespaces()
            .resource(
                new NamespaceBuilder()
                    .withNewMetadata()
                    .withName(namespace)
                    .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
                    .endMetadata()
                    .build())
            .create();
        log.info("Created the runners namespace {}", namespace);
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
      }
    }
    namespaceEnsured = true;
  }

  /** The Secret as a stored token, if it is one of ours (and, when given, the workflow's). */
  private static Optional<StoredToken> stored(Secret secret, String expectedWorkflowId) {
    if (secret == null
        || secret.getMetadata().getLabels() == null
        || !Labels.MANAGED_BY_VALUE.equals(secret.getMetadata().getLabels().get(Labels.MANAGED_BY))
        || secret.getData() == null
        || secret.getData().get(TOKEN_KEY) == null) {
      return Optional.empty();
    }
    String workflowId = annotation(secret, Labels.WORKFLOW_ID_ANNOTATION);
    if (workflowId == null
        || expectedWorkflowId != null && !expectedWorkflowId.equals(workflowId)) {
      return Optional.empty();
    }
    long runnerId;
    try {
      runnerId = Long.parseLong(annotation(secret, RUNNER_ID_ANNOTATION));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    String token =
        new String(
            Base64.getDecoder().decode(secret.getData().get(TOKEN_KEY)), StandardCharsets.UTF_8);
    String ref =
        REF_PREFIX + secret.getMetadata().getNamespace() + "/" + secret.getMetadata().getName();
    return Optional.of(new StoredToken(ref, workflowId, runnerId, token));
  }

  private String nameOf(String ref) {
    String prefix = REF_PREFIX + namespace + "/";
    if (ref == null || !ref.startsWith(prefix)) {
      // Another namespace or another store's reference: never read outside the runners namespace.
      throw new IllegalArgumentException(
          "not a token reference of this store (" + prefix + "<name>): " + ref);
    }
    String name = ref.substring(prefix.length());
    if (!Names.isDns1123Label(name)) {
      throw new IllegalArgumentException("not a Secret name in token reference: " + ref);
    }
    return name;
  }

  private static String annotation(Secret secret, String key) {
    Map<String, String> annotations = secret.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(key);
  }

  private static String base64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private ApplicationFailure translate(KubernetesClientException e, String verbs, String name) {
    int code = e.getCode();
    String operation = verbs + " of Secret " + name + " in namespace " + namespace + " failed";
    if (code == 401 || code == 403) {
      return FailureType.KubernetesForbidden.failure(
          operation
              + ": the cluster refused it (HTTP "
              + code
              + "). The worker's ServiceAccount needs get, create, update and delete on secrets in"
              + " namespace "
              + namespace
              + " (and get, create on namespaces unless it exists)",
          e);
    }
    if (code == 422 || code == 400) {
      return FailureType.KubernetesInvalid.failure(
          operation + ": the cluster rejected it (HTTP " + code + ")", e);
    }
    return FailureType.KubernetesUnavailable.failure(
        operation
            + ": "
            + (code <= 0
                ? "the cluster could not be reached"
                : "the cluster answered HTTP " + code),
        e);
  }
}
