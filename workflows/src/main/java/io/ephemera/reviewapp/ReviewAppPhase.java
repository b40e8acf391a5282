package io.ephemera.reviewapp;

/** Where a review app is in its life. Stored in history and search attributes: never rename. */
public enum ReviewAppPhase {
  PENDING,
  DEPLOYING,
  READY,
  FAILED,
  STOPPING,
  STOPPED;

  public boolean isTerminal() {
    return this == STOPPED;
  }
}
