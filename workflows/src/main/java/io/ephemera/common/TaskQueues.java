package io.ephemera.common;

/** Task queue names. Stored in history and used by every worker and client, so never rename. */
public final class TaskQueues {
  /** Review-app workflows and the activities they call. */
  public static final String REVIEW_APPS = "ephemera-review-apps";

  /** Runner workflows, the per-project slot guard, and the activities they call. */
  public static final String RUNNERS = "ephemera-runners";

  /**
   * The reconciler workflow, its listing and repair activities, and its own registrations of the
   * teardown activities it reaps with, so a burst of reaps never waits behind deploys or runners.
   */
  public static final String RECONCILER = "ephemera-reconciler";

  private TaskQueues() {}
}
