package io.ephemera.activity.reconciler;

/**
 * Compare GitLab with Temporal and answer what a missed webhook would have done.
 *
 * @param maxActions at most this many actions are returned; the rest wait for the next pass
 */
public record RepairRequest(int pageSize, int maxActions) {}
