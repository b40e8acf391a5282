package io.ephemera.reconciler;

import io.ephemera.activity.reconciler.PassReport;
import java.time.Instant;

/**
 * What the reconciler says of itself.
 *
 * @param lastPass the last finished pass, null before the first one finished
 * @param passing whether a pass is running now
 * @param nextPassAt when the next pass starts, null while one is running
 * @param passes passes finished since the reconciler first started
 */
public record ReconcilerStatus(
    PassReport lastPass, boolean passing, Instant nextPassAt, long passes) {}
