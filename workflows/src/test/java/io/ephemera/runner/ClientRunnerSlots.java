package io.ephemera.runner;

import io.ephemera.activity.slots.RunnerSlotActivities;
import io.ephemera.common.TaskQueues;
import io.ephemera.common.WorkflowIds;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.client.BatchRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import java.util.List;

/**
 * {@link RunnerSlotActivities} over a {@link WorkflowClient}, as the worker's implementation is
 * meant to be: signal-with-start of the project's guard, and DescribeWorkflowExecution. Tests run
 * it against the test server, so the slot protocol is exercised end to end.
 */
final class ClientRunnerSlots implements RunnerSlotActivities {
  private final WorkflowClient client;

  ClientRunnerSlots(WorkflowClient client) {
    this.client = client;
  }

  @Override
  public void acquire(long projectId, String runnerWorkflowId) {
    RunnerSlotsWorkflow guard =
        client.newWorkflowStub(
            RunnerSlotsWorkflow.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(WorkflowIds.runnerSlots(projectId))
                .setTaskQueue(TaskQueues.RUNNERS)
                .setWorkflowIdConflictPolicy(
                    WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
                .build());
    BatchRequest batch = client.newSignalWithStartRequest();
    batch.add(guard::run, new RunnerSlotsRequest(projectId, List.of(), List.of()));
    batch.add(guard::acquire, runnerWorkflowId);
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
