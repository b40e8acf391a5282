package io.ephemera.activity.compute;

import io.ephemera.runner.RunnerRoute;

/**
 * Compute to start for a registered runner. {@code runnerTokenRef} points at the stored token; the
 * activity hands it to the compute (a Kubernetes Secret, or EC2 user data that fetches it from SSM)
 * without it ever entering a payload. {@code waitTimeoutSeconds} is the runner's {@code
 * --wait-timeout}.
 */
public record ProvisionRequest(
    String workflowId,
    long projectId,
    long jobId,
    RunnerRoute route,
    long runnerId,
    String runnerTokenRef,
    int waitTimeoutSeconds) {}
