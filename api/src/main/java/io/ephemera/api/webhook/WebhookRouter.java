package io.ephemera.api.webhook;

import io.ephemera.common.WorkflowIds;
import io.ephemera.reviewapp.DeployRequest;
import io.ephemera.reviewapp.ReviewAppRequest;
import io.ephemera.reviewapp.ReviewAppStarter;
import io.temporal.client.WorkflowClient;
import org.springframework.stereotype.Component;

/**
 * Decides what a merge request event means for its review app and records it in Temporal. Only
 * signals (and signal-with-start) are used: they need the Temporal server alone, never a worker, so
 * a slow or absent worker cannot make a delivery fail and GitLab disable the hook.
 */
@Component
class WebhookRouter {
  static final String NO_REVIEW_APP = "no review app for this merge request";
  static final String REASON_CLOSED = ReviewAppStarter.REASON_CLOSED;
  static final String REASON_MERGED = ReviewAppStarter.REASON_MERGED;

  /** The same entry point the reconciler's repairs use, so a webhook and a repair do work once. */
  private final ReviewAppStarter starter;

  private final WebhookProperties properties;

  WebhookRouter(WorkflowClient client, WebhookProperties properties) {
    this.starter = new ReviewAppStarter(client);
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
    String workflowId =
        starter.deploy(
            new ReviewAppRequest(
                event.projectId(), event.projectPath(), event.iid(), event.title()),
            new DeployRequest(event.sha(), idempotencyKey, event.sourceBranch()));
    return WebhookResponse.deploy(workflowId, event.sha());
  }

  private WebhookResponse stop(MergeRequestEvent event, String reason) {
    if (!starter.stop(event.projectId(), event.iid(), reason)) {
      // Never opened, or already gone: there is nothing to stop, and GitLab must not retry.
      return WebhookResponse.ignored(NO_REVIEW_APP);
    }
    String workflowId = WorkflowIds.reviewApp(event.projectId(), event.iid());
    return WebhookResponse.stop(workflowId);
  }
}
