package io.ephemera.activity.kubernetes;

/** Which rollout to wait for: the Deployment of {@code namespace} running {@code sha}. */
public record RolloutRequest(String namespace, String sha) {}
