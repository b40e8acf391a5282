package io.ephemera.runner;

import io.ephemera.common.TaskQueues;
import io.ephemera.common.WorkflowIds;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowOptions;

/**
 * The one client-side entry point that starts a job's {@link RunnerWorkflow}, used by the Job Hook
 * intake and by the reconciler's repairs alike: same id, same policies, so a hook and a repair
 * racing each other start one runner.
 */
public final class RunnerStarter {
  /** Keeps the Temporal UI summary readable whatever the project path and job name. */
  private static final int MAX_SUMMARY = 200;

  private final WorkflowClient client;

  public RunnerStarter(WorkflowClient client) {
    this.client = client;
  }

  /** What a start did. */
  public enum Outcome {
    /** A runner workflow was started, or one was already running for the job. */
    STARTED_OR_RUNNING,
    /** The job's runner workflow already completed: it served its job. */
    ALREADY_FINISHED
  }

  /**
   * Starts the job's runner workflow. Temporal failures other than "already finished" propagate.
   */
  public Outcome start(RunnerRequest request) {
    String workflowId = WorkflowIds.runner(request.projectId(), request.jobId());
    WorkflowOptions options =
        WorkflowOptions.newBuilder()
            .setWorkflowId(workflowId)
            .setTaskQueue(TaskQueues.RUNNERS)
            // A redelivered pending event finds the runner workflow running: nothing new starts.
            .setWorkflowIdConflictPolicy(
                WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
            // GitLab never reuses a job id (a retry is a new job), so a closed workflow is only met
            // again by a late or manual redelivery, or a repair. One that completed served its job:
            // a second runner would only idle until its wait timeout. One that failed, was
            // terminated or timed out may never have served it: the job may still be pending, so
            // it gets another.
            .setWorkflowIdReusePolicy(
                WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY)
            .setStaticSummary(summary(request))
            .build();
    RunnerWorkflow workflow = client.newWorkflowStub(RunnerWorkflow.class, options);
    try {
      WorkflowClient.start(workflow::run, request);
      return Outcome.STARTED_OR_RUNNING;
    } catch (WorkflowExecutionAlreadyStarted e) {
      return Outcome.ALREADY_FINISHED;
    }
  }

  /** "Runner for group/project job test #1977", at most 200 characters. */
  public static String summary(RunnerRequest request) {
    String value =
        "Runner for "
            + request.projectPath()
            + " job "
            + request.jobName()
            + " #"
            + request.jobId();
    if (value.codePointCount(0, value.length()) <= MAX_SUMMARY) {
      return value;
    }
    return value.substring(0, value.offsetByCodePoints(0, MAX_SUMMARY - 1)) + "…";
  }
}
