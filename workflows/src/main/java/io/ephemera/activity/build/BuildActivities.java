package io.ephemera.activity.build;

import io.temporal.activity.ActivityInterface;

/**
 * Builds a review app's image from a commit. Activity type names are {@code Build<Method>} and
 * stored in history: never rename a method. The builder behind it (a Kaniko Job by default) is an
 * implementation detail, so another builder can be added.
 */
@ActivityInterface(namePrefix = "Build")
public interface BuildActivities {

  /**
   * Builds and pushes {@code request.destination()}, unless the registry already has that tag.
   * Idempotent by build name: a retry attaches to the build already running. Waits, heartbeating;
   * fails with {@code BuildFailed} (non-retryable, the message ends with the last lines of the
   * build log) when the build fails, and with {@code BuildPending} (retryable) when it has not
   * finished within one attempt's wait budget. A failed or cancelled build is deleted. A successful
   * one keeps its finished Job, and a skipped one its credentials Secret, so that a retry whose
   * first answer was lost learns the outcome again: call {@link #deleteBuild} once the outcome is
   * recorded.
   */
  BuildResult build(BuildRequest request);

  /**
   * Deletes what a build left (Job, pods, credentials Secret); absent objects are success. After
   * every build, and for the reaper, when the worker running {@link #build} died before cleaning
   * up.
   */
  void deleteBuild(BuildRequest request);
}
