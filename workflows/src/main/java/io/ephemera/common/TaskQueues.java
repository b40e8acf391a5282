package io.ephemera.common;

/** Task queue names. Stored in history and used by every worker and client, so never rename. */
public final class TaskQueues {
  /** Review-app workflows and the activities they call. */
  public static final String REVIEW_APPS = "ephemera-review-apps";

  /** Runner workflows, the per-project slot guard, and the activities they call. */
  public static final String RUNNERS = "ephemera-runners";

  private TaskQueues() {}
}
