package io.ephemera.activity.reconciler;

import java.time.Duration;

/**
 * List one kind of managed resource and answer the orphan candidates among them.
 *
 * @param maxCandidates at most this many candidates are returned (the rest are counted)
 */
public record ListRequest(String kind, Duration grace, int pageSize, int maxCandidates) {}
