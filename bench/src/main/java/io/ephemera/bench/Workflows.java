package io.ephemera.bench;

import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowNotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/** Waiting on workflows through the server alone (describe), so the worker is not asked. */
final class Workflows {
  private Workflows() {}

  static boolean closed(WorkflowClient client, String workflowId) {
    try {
      return client.newUntypedWorkflowStub(workflowId).describe().getStatus()
          != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
    } catch (WorkflowNotFoundException e) {
      return false;
    }
  }

  /**
   * Waits until every workflow is closed (a continued-as-new run counts as running); answers those
   * still running at the deadline.
   */
  static List<String> awaitClosed(WorkflowClient client, Collection<String> ids, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<String> open = new ArrayList<>(ids);
    while (!open.isEmpty() && System.nanoTime() < deadline) {
      ConcurrentLinkedQueue<String> still = new ConcurrentLinkedQueue<>();
      List<String> check = open;
      Parallel.run(
          4,
          check.size(),
          i -> {
            if (!closed(client, check.get(i))) {
              still.add(check.get(i));
            }
          });
      open = new ArrayList<>(still);
      if (!open.isEmpty()) {
        Thread.sleep(500);
      }
    }
    return open;
  }
}
