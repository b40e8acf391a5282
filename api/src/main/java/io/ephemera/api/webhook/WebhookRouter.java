package io.ephemera.api.webhook;

import io.ephemera.api.error.TemporalErrors;
import io.ephemera.common.TaskQueues;
import io.ephemera.common.WorkflowIds;
import io.ephemera.reviewapp.DeployRequest;
import io.ephemera.reviewapp.ReviewAppRequest;
import io.ephemera.reviewapp.ReviewAppWorkflow;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.client.BatchRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import org.springframework.stereotype.Component;

/**
 * Decides what a merge request event means for its review app and records it in Temporal. Only
 * signals (and signal-with-start) are used: they need the Temporal server alone, never a worker, so
 * a slow or absent worker cannot make a delivery fail and GitLab disable the hook.
 */
@Component
class WebhookRouter {
  static final String NO_REVIEW_APP = "no review app for this merge request";
  static final String REASON_CLOSED = "merge request closed";
  static final String REASON_MERGED = "merge request merged";

  /** Keeps the Temporal UI summary readable whatever the project path. */
  private static final int MAX_SUMMARY = 200;

  private final WorkflowClient client;
  private final WebhookProperties properties;

  WebhookRouter(WorkflowClient client, WebhookProperties properties) {
    this.client = client;
    this.properties = properties;
  }

  /**
   * Routes one merge request event. Temporal failures propagate: the caller must not answer 2xx for
   * a delivery Temporal did not record.
   *
   * @param idempotencyKey the delivery's key, the same on every redelivery of it
   */
  WebhookResponse route(MergeRequestEvent event, String idempotencyKey) {
    return switch (event.action()) {
      case "open", "reopen" -> deploy(event, idempotencyKey);
      case "update" ->
          event.oldrev() != null
              ? deploy(event, idempotencyKey)
              : WebhookResponse.ignored("update without a new commit");
      case "close" -> stop(event, REASON_CLOSED);
      case "merge" -> stop(event, REASON_MERGED);
      default -> WebhookResponse.ignored("action " + event.action());
    };
  }

  private WebhookResponse deploy(MergeRequestEvent event, String idempotencyKey) {
    event.requireDeployable();
    if (event.fromFork() && !properties.deploysForksOf(event.projectId())) {
      // Code from a fork is not the project's to run with the project's credentials.
      return WebhookResponse.ignored("fork");
    }
    String workflowId = WorkflowIds.reviewApp(event.projectId(), event.iid());
    WorkflowOptions options =
        WorkflowOptions.newBuilder()
            .setWorkflowId(workflowId)
            .setTaskQueue(TaskQueues.REVIEW_APPS)
            // A running review app takes the deploy signal; a new one starts only when none runs.
            .setWorkflowIdConflictPolicy(
                WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
            .setStaticSummary(summary(event))
            .build();
    ReviewAppWorkflow workflow = client.newWorkflowStub(ReviewAppWorkflow.class, options);
    try {
      client.signalWithStart(deployBatch(workflow, event, idempotencyKey));
    } catch (RuntimeException e) {
      // The review app closed between the server finding it running and signalling it (a close
      // and a reopen racing): the server answers NOT_FOUND. Once closed, a new try starts a run.
      if (!TemporalErrors.isNotFound(e)) {
        throw e;
      }
      client.signalWithStart(deployBatch(workflow, event, idempotencyKey));
    }
    return WebhookResponse.deploy(workflowId, event.sha());
  }

  private BatchRequest deployBatch(
      ReviewAppWorkflow workflow, MergeRequestEvent event, String idempotencyKey) {
    BatchRequest batch = client.newSignalWithStartRequest();
    batch.add(
        workflow::run,
        new ReviewAppRequest(event.projectId(), event.projectPath(), event.iid(), event.title()));
    batch.add(
        workflow::deploy, new DeployRequest(event.sha(), idempotencyKey, event.sourceBranch()));
    return batch;
  }

  private WebhookResponse stop(MergeRequestEvent event, String reason) {
    String workflowId = WorkflowIds.reviewApp(event.projectId(), event.iid());
    try {
      client.newUntypedWorkflowStub(workflowId).signal(ReviewAppWorkflow.SIGNAL_STOP, reason);
    } catch (RuntimeException e) {
      // Never opened, or already gone: there is nothing to stop, and GitLab must not retry.
      if (TemporalErrors.isNotFound(e)) {
        return WebhookResponse.ignored(NO_REVIEW_APP);
      }
      throw e;
    }
    return WebhookResponse.stop(workflowId);
  }

  private static String summary(MergeRequestEvent event) {
    return MergeRequestEvent.shorten(
        "Review app of " + event.projectPath() + "!" + event.iid(), MAX_SUMMARY);
  }
}
