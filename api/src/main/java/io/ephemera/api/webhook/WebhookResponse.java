package io.ephemera.api.webhook;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Body of a 202: either {@code accepted} (what was recorded in Temporal) or {@code ignored} (why
 * nothing was). GitLab only shows it in the webhook's Recent events, where it helps a human.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record WebhookResponse(String accepted, String ignored, String workflowId, String sha) {

  static WebhookResponse deploy(String workflowId, String sha) {
    return new WebhookResponse("deploy", null, workflowId, sha);
  }

  static WebhookResponse stop(String workflowId) {
    return new WebhookResponse("stop", null, workflowId, null);
  }

  static WebhookResponse ignored(String why) {
    return new WebhookResponse(null, why, null, null);
  }

  /** For the delivery log line. */
  String outcome() {
    return accepted != null ? accepted : "ignored (" + ignored + ")";
  }
}
