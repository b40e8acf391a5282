package io.ephemera.api.webhook;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Body of a 202: either {@code accepted} (what was recorded in Temporal) or {@code ignored} (why
 * nothing was), with the details that apply. GitLab only shows it in the webhook's Recent events,
 * where it helps a human.
 *
 * @param route the runner route a pending job was given
 * @param tags the job tags the route was chosen with
 * @param tagsFrom where those tags came from: {@code payload}, {@code jobs-api}, or {@code none}
 *     (the Jobs API could not be asked or did not answer in time)
 * @param workflowIds the runner workflows a job event was signalled to
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
record WebhookResponse(
    String accepted,
    String ignored,
    String workflowId,
    String sha,
    String route,
    List<String> tags,
    String tagsFrom,
    List<String> workflowIds) {

  static WebhookResponse deploy(String workflowId, String sha) {
    return new WebhookResponse("deploy", null, workflowId, sha, null, null, null, null);
  }

  static WebhookResponse stop(String workflowId) {
    return new WebhookResponse("stop", null, workflowId, null, null, null, null, null);
  }

  static WebhookResponse runner(
      String workflowId, String route, List<String> tags, String tagsFrom) {
    return new WebhookResponse("runner", null, workflowId, null, route, tags, tagsFrom, null);
  }

  /** {@code signal} is the signal's name: jobStarted or jobFinished. */
  static WebhookResponse signalled(String signal, List<String> workflowIds) {
    return new WebhookResponse(signal, null, null, null, null, null, null, workflowIds);
  }

  static WebhookResponse ignored(String why) {
    return new WebhookResponse(null, why, null, null, null, null, null, null);
  }

  /** For the delivery log line. */
  String outcome() {
    return accepted != null ? accepted : "ignored (" + ignored + ")";
  }
}
