package io.ephemera.activity.reconciler;

import io.ephemera.common.TemporalCalls;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.client.WorkflowClient;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * {@link Owners} through DescribeWorkflowExecution of the latest run of the id. NOT_FOUND means
 * never started or gone past retention; any other failure is a failed lookup.
 */
public final class TemporalOwners implements Owners {
  private final WorkflowClient client;
  private final Duration timeout;

  public TemporalOwners(WorkflowClient client, Duration timeout) {
    this.client = client;
    this.timeout = timeout;
  }

  @Override
  public State state(String workflowId) {
    DescribeWorkflowExecutionResponse response;
    try {
      response =
          client
              .getWorkflowServiceStubs()
              .blockingStub()
              .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
              .describeWorkflowExecution(
                  DescribeWorkflowExecutionRequest.newBuilder()
                      .setNamespace(client.getOptions().getNamespace())
                      .setExecution(
                          io.temporal.api.common.v1.WorkflowExecution.newBuilder()
                              .setWorkflowId(workflowId))
                      .build());
    } catch (RuntimeException e) {
      if (TemporalCalls.isNotFound(e)) {
        return State.NOT_FOUND;
      }
      throw new LookupFailed("describing " + workflowId + " failed: " + e.getMessage(), e);
    }
    WorkflowExecutionInfo info = response.getWorkflowExecutionInfo();
    WorkflowExecutionStatus status = info.getStatus();
    if (status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
      return new State(true, "running", null);
    }
    Instant closedAt =
        info.hasCloseTime()
            ? Instant.ofEpochSecond(
                info.getCloseTime().getSeconds(), info.getCloseTime().getNanos())
            : null;
    return new State(false, describe(status), closedAt);
  }

  /** {@code WORKFLOW_EXECUTION_STATUS_TIMED_OUT} reads "timed out". */
  private static String describe(WorkflowExecutionStatus status) {
    return status
        .name()
        .replace("WORKFLOW_EXECUTION_STATUS_", "")
        .toLowerCase(Locale.ROOT)
        .replace('_', ' ');
  }
}
