package io.ephemera.activity.gitlab;

import io.temporal.activity.ActivityInterface;

/**
 * What a review app tells GitLab: its environment, deployments, one merge-request note and the
 * commit status. Type names are {@code GitLabFeedback<Method>}: never rename a method. Every call
 * is idempotent. A feedback failure never fails a deploy: workflows record it and retry later.
 */
@ActivityInterface(namePrefix = "GitLabFeedback")
public interface GitLabFeedbackActivities {

  /**
   * Creates the environment ({@code review/mr-<iid>}) or updates its external URL (Environments
   * API); answers its id.
   */
  long upsertEnvironment(EnvironmentRequest request);

  /**
   * Creates a deployment of {@code sha} to the environment ({@code deploymentId} null), or updates
   * the status of an existing one (Deployments API); answers its id.
   */
  long recordDeployment(DeploymentRequest request);

  /**
   * Posts the review app's note on the merge request, or edits it: the note is found by {@code
   * noteId}, else by the hidden marker Ephemera puts in its body, so a push never adds a second
   * note. Answers the note id.
   */
  long upsertNote(NoteRequest request);

  /** Sets the commit status {@code ephemera/review-app} of {@code sha}. */
  void setCommitStatus(CommitStatusRequest request);

  /** Stops the environment; an absent or already stopped one is success. */
  void stopEnvironment(EnvironmentRequest request);
}
