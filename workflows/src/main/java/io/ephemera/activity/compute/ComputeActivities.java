package io.ephemera.activity.compute;

import io.temporal.activity.ActivityInterface;

/**
 * Compute for single-use runners: a Kubernetes pod or an EC2 instance running {@code gitlab-runner
 * run-single --max-builds 1 --wait-timeout N}. Type names are {@code Compute<Method>}. Everything
 * provisioned is labelled or tagged with the workflow id and {@code
 * app.kubernetes.io/managed-by=ephemera}; terminate finds it by that, so it is idempotent and can
 * be registered as a compensation before provisioning.
 */
@ActivityInterface(namePrefix = "Compute")
public interface ComputeActivities {

  /** Starts the runner's compute; a retry finds compute already started for the workflow. */
  ComputeRef provision(ProvisionRequest request);

  /** Terminates every compute of the workflow; nothing there is success. */
  void terminate(TerminateRequest request);

  /**
   * Waits, heartbeating, until every compute of the workflow is gone (pods deleted, instances
   * {@code terminated}), up to the activity's wait budget; answers whether it is.
   */
  boolean awaitTerminated(TerminateRequest request);
}
