package io.ephemera.activity.kubernetes;

import io.ephemera.common.FailureType;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusCause;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.temporal.failure.ApplicationFailure;
import java.util.List;
import java.util.Locale;

/**
 * Turns what the API server answered into the failure catalogue: the one place that decides which
 * Kubernetes errors a retry can cure. Messages name the operation, kind and namespace, never a
 * credential (the client's own messages hold none).
 */
public final class KubernetesErrors {
  private static final int MAX_SERVER_MESSAGE = 300;

  private KubernetesErrors() {}

  /**
   * @param verbs the RBAC verbs the operation needs, e.g. {@code create, patch}
   * @param type the kind operated on
   * @param name the object's name
   * @param namespace its namespace, {@code null} for cluster-scoped kinds
   */
  public static ApplicationFailure translate(
      KubernetesClientException e,
      List<String> verbs,
      Class<? extends HasMetadata> type,
      String name,
      String namespace) {
    int code = e.getCode();
    String kind = HasMetadata.getKind(type);
    String resource = HasMetadata.getFullResourceName(type);
    String target =
        kind + " " + name + (namespace == null ? "" : " in namespace " + namespace) + " failed";
    String operation = String.join("/", verbs) + " of " + target;
    String server = serverMessage(e);

    if (code == 401 || code == 403) {
      if (namespaceTerminating(e)) {
        // The API server refuses new content while a namespace is being deleted; once it is gone
        // the next attempt recreates it, so this is a wait, not an RBAC problem.
        return FailureType.KubernetesUnavailable.failure(
            operation + ": the namespace is still terminating (" + server + ")", e);
      }
      String why =
          code == 401
              ? "the cluster did not accept Ephemera's credentials (HTTP 401)"
              : "the cluster forbade it (HTTP 403)";
      return FailureType.KubernetesForbidden.failure(
          operation
              + ": "
              + why
              + ". The ServiceAccount's RBAC must allow "
              + String.join(", ", verbs)
              + " on "
              + resource
              + (namespace == null ? " (cluster-scoped)" : " in review namespaces")
              + server(server),
          e);
    }
    if (code == 422 || (code >= 400 && code < 500 && code != 404 && code != 409 && code != 429)) {
      // 422 is an invalid object; other 4xx (400, 405, 415) mean this client sent something the
      // server will never accept. Retrying the same request cannot help either way.
      return FailureType.KubernetesInvalid.failure(
          operation + ": the cluster rejected it (HTTP " + code + ")" + server(server), e);
    }
    // 404 (something vanished between two calls), 409 (someone else wrote in between), 429, 5xx
    // and no answer at all (code <= 0, an IOException underneath) are transient.
    String what =
        code <= 0
            ? "the cluster could not be reached (" + rootMessage(e) + ")"
            : "the cluster answered HTTP " + code;
    return FailureType.KubernetesUnavailable.failure(operation + ": " + what + server(server), e);
  }

  private static boolean namespaceTerminating(KubernetesClientException e) {
    Status status = e.getStatus();
    if (status == null) {
      return false;
    }
    if (status.getDetails() != null && status.getDetails().getCauses() != null) {
      for (StatusCause cause : status.getDetails().getCauses()) {
        if ("NamespaceTerminating".equals(cause.getReason())) {
          return true;
        }
      }
    }
    String message = status.getMessage();
    return message != null && message.toLowerCase(Locale.ROOT).contains("being terminated");
  }

  private static String serverMessage(KubernetesClientException e) {
    Status status = e.getStatus();
    String m = status == null ? null : status.getMessage();
    if (m == null || m.isBlank()) {
      return "";
    }
    return m.length() > MAX_SERVER_MESSAGE ? m.substring(0, MAX_SERVER_MESSAGE) + "…" : m;
  }

  private static String server(String message) {
    return message.isEmpty() ? "" : ". Server said: " + message;
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
