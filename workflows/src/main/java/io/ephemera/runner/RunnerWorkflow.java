package io.ephemera.runner;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * One single-use GitLab runner for one pending job, id {@code runner/{projectId}/job-{jobId}} (see
 * {@link io.ephemera.common.WorkflowIds#runner}). Every name here is stored in history: never
 * rename.
 */
@WorkflowInterface
public interface RunnerWorkflow {
  String TYPE = "Runner";
  String SIGNAL_JOB_STARTED = "jobStarted";
  String SIGNAL_JOB_FINISHED = "jobFinished";
  String SIGNAL_SLOT_GRANTED = "slotGranted";
  String SIGNAL_STOP = "stop";
  String QUERY_STATUS = "status";

  @WorkflowMethod(name = TYPE)
  RunnerStatus run(RunnerRequest request);

  @SignalMethod(
      name = SIGNAL_JOB_STARTED,
      description =
          "A job started on this workflow's runner, or this workflow's own job was picked up:"
              + " {\"jobId\": 1, \"status\": \"running\", \"runnerId\": 2}.")
  void jobStarted(JobEvent event);

  @SignalMethod(
      name = SIGNAL_JOB_FINISHED,
      description =
          "A job finished on this workflow's runner, or this workflow's own job ended (e.g."
              + " cancelled before pickup): {\"jobId\": 1, \"status\": \"success\","
              + " \"runnerId\": 2}.")
  void jobFinished(JobEvent event);

  @SignalMethod(
      name = SIGNAL_SLOT_GRANTED,
      description = "Sent by the project's runner-slots workflow when this runner may start.")
  void slotGranted();

  @SignalMethod(
      name = SIGNAL_STOP,
      description = "Deregister and destroy the runner now. Argument: a reason shown in status.")
  void stop(String reason);

  @QueryMethod(
      name = QUERY_STATUS,
      description = "Phase, runner id, compute id, route, jobs run and the history of phases.")
  RunnerStatus status();
}
