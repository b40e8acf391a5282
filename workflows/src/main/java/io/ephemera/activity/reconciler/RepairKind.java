package io.ephemera.activity.reconciler;

import java.util.Locale;

/** What a repair does. Stored in history and used as a metric label: never rename. */
public enum RepairKind {
  /** An open merge request without its review app at its head commit: signal-with-start. */
  REVIEW_APP_DEPLOY,
  /** A running review app whose merge request was closed or merged: signal stop. */
  REVIEW_APP_STOP,
  /** A pending, routed job without its runner workflow: start it. */
  RUNNER_START;

  /** {@code review-app-deploy}, the metric label. */
  public String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
