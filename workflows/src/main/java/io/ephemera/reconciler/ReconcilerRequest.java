package io.ephemera.reconciler;

import io.ephemera.activity.reconciler.PassReport;

/**
 * Input of {@link ReconcilerWorkflow}: empty on the first start, the state carried over by
 * continue-as-new afterwards.
 *
 * @param passes passes made by all earlier runs
 * @param lastPass the last pass's report, so the REST API shows it across continue-as-new
 */
public record ReconcilerRequest(long passes, PassReport lastPass) {
  public static ReconcilerRequest first() {
    return new ReconcilerRequest(0, null);
  }
}
