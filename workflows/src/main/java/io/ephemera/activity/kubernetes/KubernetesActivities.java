package io.ephemera.activity.kubernetes;

import io.temporal.activity.ActivityInterface;
import java.util.List;

/**
 * Kubernetes operations of a review app. Activity type names are {@code Kubernetes<Method>} and
 * stored in history: never rename a method. Every operation is idempotent: "already exists" and
 * "already gone" are success. Failures are typed with {@link io.ephemera.common.FailureType}.
 */
@ActivityInterface(namePrefix = "Kubernetes")
public interface KubernetesActivities {

  /**
   * Creates or updates the namespace with its labels, ResourceQuota, LimitRange, a default-deny
   * NetworkPolicy and a policy admitting traffic from the ingress controller's namespace. Returns
   * the objects it holds, as {@code Kind/namespace/name}.
   */
  List<String> ensureNamespace(NamespaceSpec spec);

  /**
   * Creates or updates the Deployment, Service and Ingress of the environment. Returns the objects,
   * as {@code Kind/namespace/name}.
   */
  List<String> applyWorkload(WorkloadSpec spec);

  /**
   * Waits, heartbeating, until the Deployment has rolled out the requested image. Fails with {@code
   * RolloutFailed} (non-retryable) when it cannot succeed, and with {@code RolloutPending}
   * (retryable) when it has not finished within the activity's own wait budget.
   */
  RolloutResult awaitRollout(RolloutRequest request);

  /** Deletes the Ingress; an absent Ingress or namespace is success. */
  void deleteIngress(String namespace);

  /** Deletes the Deployment and Service; absent ones are success. */
  void deleteWorkloads(String namespace);

  /** Requests deletion of the namespace; an absent namespace is success. */
  void deleteNamespace(String namespace);

  /**
   * Waits, heartbeating, for the namespace to disappear, up to the activity's wait budget. Answers
   * whether it is gone and, if not, since when it has been terminating.
   */
  NamespaceState awaitNamespaceGone(String namespace);
}
