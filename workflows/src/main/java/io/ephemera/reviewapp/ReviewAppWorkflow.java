package io.ephemera.reviewapp;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.UpdateMethod;
import io.temporal.workflow.UpdateValidatorMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * One review app per merge request, id {@code review-app/{projectId}/mr-{iid}} (see {@link
 * io.ephemera.common.WorkflowIds#reviewApp}). Every name here is stored in history: never rename.
 */
@WorkflowInterface
public interface ReviewAppWorkflow {
  String TYPE = "ReviewApp";
  String SIGNAL_DEPLOY = "deploy";
  String SIGNAL_STOP = "stop";
  String UPDATE_EXTEND = "extend";
  String QUERY_STATUS = "status";

  @WorkflowMethod(name = TYPE)
  ReviewAppResult run(ReviewAppRequest request);

  @SignalMethod(
      name = SIGNAL_DEPLOY,
      description =
          "Deploy a head commit: {\"sha\": \"<40-hex>\", \"idempotencyKey\": \"<key>\"}. A key"
              + " already seen is ignored; a newer commit supersedes a deploy in progress.")
  void deploy(DeployRequest request);

  @SignalMethod(
      name = SIGNAL_STOP,
      description =
          "Tear the environment down and finish. Argument: a reason shown in status, e.g."
              + " \"stopped from the Temporal UI\".")
  void stop(String reason);

  @UpdateMethod(
      name = UPDATE_EXTEND,
      description =
          "Keep the environment for this long from now: {\"duration\": \"PT48H\"}. Answers the"
              + " new auto-stop time.")
  ExtendResult extend(ExtendRequest request);

  @UpdateValidatorMethod(updateName = UPDATE_EXTEND)
  void validateExtend(ExtendRequest request);

  @QueryMethod(
      name = QUERY_STATUS,
      description = "Phase, SHA, URL, deploy count, auto-stop time, resources and last error.")
  ReviewAppStatus status();
}
