package io.ephemera.activity.reconciler;

/**
 * One kind in a pass.
 *
 * @param live managed resources seen
 * @param oldestAgeSeconds age of the oldest one, null when none or unknown
 * @param found orphan candidates (owner not running, older than the grace period)
 * @param reaped deleted this pass
 * @param failed deletions that failed or timed out (tried again next pass)
 * @param blockedBy the failed source that kept this kind from being reaped, else null
 */
public record KindReport(
    long live, Long oldestAgeSeconds, long found, long reaped, long failed, String blockedBy) {}
