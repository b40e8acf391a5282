package io.ephemera.activity.slots;

import io.ephemera.common.TaskQueues;
import io.ephemera.common.WorkflowIds;
import io.ephemera.runner.RunnerSlotsRequest;
import io.ephemera.runner.RunnerSlotsWorkflow;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.client.BatchRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import java.util.List;

/** {@link RunnerSlotActivities} through the worker's own Temporal client. */
public class RunnerSlotActivitiesImpl implements RunnerSlotActivities {
  private final WorkflowClient client;

  public RunnerSlotActivitiesImpl(WorkflowClient client) {
    this.client = client;
  }

  @Override
  public void acquire(long projectId, String runnerWorkflowId) {
    RunnerSlotsWorkflow slots =
        client.newWorkflowStub(
            RunnerSlotsWorkflow.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(WorkflowIds.runnerSlots(projectId))
                .setTaskQueue(TaskQueues.RUNNERS)
                .setWorkflowIdConflictPolicy(
                    WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
                .setStaticSummary("Runner slots of project " + projectId)
                .build());
    BatchRequest batch = client.newSignalWithStartRequest();
    batch.add(slots::run, new RunnerSlotsRequest(projectId, List.of(), List.of()));
    batch.add(slots::acquire, runnerWorkflowId);
    client.signalWithStart(batch);
  }

  @Override
  public boolean isRunning(String workflowId) {
    try {
      return client.newUntypedWorkflowStub(workflowId).describe().getStatus()
          == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
    } catch (WorkflowNotFoundException e) {
      return false;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }
}
