package io.ephemera.activity.gitlab;

import io.temporal.activity.ActivityInterface;
import java.util.List;

/**
 * GitLab runner registration and job lookups. Activity type names are {@code GitLab<Method>}: never
 * rename a method. The runner authentication token ({@code glrt-...}) never leaves the activities:
 * it is kept in a token store and referred to by {@link RegisteredRunner#tokenRef}.
 */
@ActivityInterface(namePrefix = "GitLab")
public interface GitLabRunnerActivities {

  /**
   * Creates a project runner ({@code POST /user/runners}, {@code runner_type=project_type}, the
   * given tags, {@code run_untagged=false}, description {@code WorkflowIds.runnerDescription}),
   * stores its token, and answers the runner id and token reference. Idempotent per workflow: a
   * retry finds the runner already made for this workflow (by description) with a stored token and
   * answers it; one without a stored token is deleted and made again.
   */
  RegisteredRunner createRunner(CreateRunnerRequest request);

  /**
   * Deletes every runner of the project whose description names the workflow, and its stored token.
   * Absent runners are success.
   */
  void deleteRunner(DeleteRunnerRequest request);

  /** The job's current status and runner ({@code GET /projects/:id/jobs/:job_id}). */
  JobState jobState(long projectId, long jobId);

  /** Jobs the runner has taken, newest first ({@code GET /runners/:id/jobs}). */
  List<JobState> runnerJobs(long runnerId);
}
