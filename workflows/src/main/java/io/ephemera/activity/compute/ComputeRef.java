package io.ephemera.activity.compute;

import io.ephemera.runner.RunnerType;

/** What was provisioned: a pod name ({@code namespace/name}) or an EC2 instance id. */
public record ComputeRef(RunnerType type, String id) {}
