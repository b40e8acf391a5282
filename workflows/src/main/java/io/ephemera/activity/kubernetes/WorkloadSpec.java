package io.ephemera.activity.kubernetes;

/**
 * The environment to run: {@code image} at {@code sha}, served at {@code host}. Port, replicas,
 * resources and TLS come from configuration.
 */
public record WorkloadSpec(
    String namespace, String workflowId, String sha, String image, String host) {}
