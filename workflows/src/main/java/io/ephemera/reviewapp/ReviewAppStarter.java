package io.ephemera.reviewapp;

import io.ephemera.common.TaskQueues;
import io.ephemera.common.TemporalCalls;
import io.ephemera.common.WorkflowIds;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.client.BatchRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;

/**
 * The one client-side entry point to a merge request's review app, used by the webhook and by the
 * reconciler's repairs alike. Because both use the same deterministic id and the same
 * signal-with-start, a webhook and a repair racing each other start one workflow, and its {@code
 * deploy} handler ignores a commit that is already live or on its way: the work is done once.
 *
 * <p>Signals only: they need the Temporal server, never a worker.
 */
public final class ReviewAppStarter {
  public static final String REASON_CLOSED = "merge request closed";
  public static final String REASON_MERGED = "merge request merged";

  /** Keeps the Temporal UI summary readable whatever the project path. */
  private static final int MAX_SUMMARY = 200;

  private final WorkflowClient client;

  public ReviewAppStarter(WorkflowClient client) {
    this.client = client;
  }

  /**
   * Signal-with-start: a running review app takes the {@code deploy} signal; when none runs, one
   * starts with it. Temporal failures propagate.
   *
   * @return the workflow id
   */
  public String deploy(ReviewAppRequest request, DeployRequest deploy) {
    String workflowId = WorkflowIds.reviewApp(request.projectId(), request.mrIid());
    WorkflowOptions options =
        WorkflowOptions.newBuilder()
            .setWorkflowId(workflowId)
            .setTaskQueue(TaskQueues.REVIEW_APPS)
            // A running review app takes the deploy signal; a new one starts only when none runs.
            .setWorkflowIdConflictPolicy(
                WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
            .setStaticSummary(summary(request.projectPath(), request.mrIid()))
            .build();
    ReviewAppWorkflow workflow = client.newWorkflowStub(ReviewAppWorkflow.class, options);
    try {
      client.signalWithStart(batch(workflow, request, deploy));
    } catch (RuntimeException e) {
      // The review app closed between the server finding it running and signalling it (a close
      // and a reopen racing): the server answers NOT_FOUND. Once closed, a new try starts a run.
      if (!TemporalCalls.isNotFound(e)) {
        throw e;
      }
      client.signalWithStart(batch(workflow, request, deploy));
    }
    return workflowId;
  }

  private BatchRequest batch(
      ReviewAppWorkflow workflow, ReviewAppRequest request, DeployRequest deploy) {
    BatchRequest batch = client.newSignalWithStartRequest();
    batch.add(workflow::run, request);
    batch.add(workflow::deploy, deploy);
    return batch;
  }

  /**
   * Signals {@code stop} to the review app of the merge request.
   *
   * @return false when there is none (never opened, or already gone): nothing to stop
   */
  public boolean stop(long projectId, long mrIid, String reason) {
    String workflowId = WorkflowIds.reviewApp(projectId, mrIid);
    try {
      client.newUntypedWorkflowStub(workflowId).signal(ReviewAppWorkflow.SIGNAL_STOP, reason);
      return true;
    } catch (RuntimeException e) {
      if (TemporalCalls.isNotFound(e)) {
        return false;
      }
      throw e;
    }
  }

  /** "Review app of group/project!7", at most 200 characters. */
  public static String summary(String projectPath, long mrIid) {
    String value = "Review app of " + projectPath + "!" + mrIid;
    if (value.codePointCount(0, value.length()) <= MAX_SUMMARY) {
      return value;
    }
    return value.substring(0, value.offsetByCodePoints(0, MAX_SUMMARY - 1)) + "…";
  }
}
