package io.ephemera.activity.kubernetes;

/** A finished rollout. */
public record RolloutResult(int readyReplicas) {}
