package io.ephemera.activity.compute;

import io.ephemera.runner.RunnerType;

/** Terminate the compute of {@code workflowId} of this type. */
public record TerminateRequest(String workflowId, RunnerType type) {}
