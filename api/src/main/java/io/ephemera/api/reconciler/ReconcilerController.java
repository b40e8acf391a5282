package io.ephemera.api.reconciler;

import io.ephemera.api.WorkflowReader;
import io.ephemera.api.error.ApiException;
import io.ephemera.api.error.ProblemType;
import io.ephemera.api.error.TemporalErrors;
import io.ephemera.reconciler.ReconcilerStatus;
import io.ephemera.reconciler.ReconcilerWorkflow;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionDescription;
import io.temporal.client.WorkflowStub;
import java.util.Optional;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /api/v1/reconciler}: the reconciler's last pass. Bearer-authenticated like the rest of
 * {@code /api/**}.
 */
@RestController
@RequestMapping(path = "/api/v1/reconciler", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(
    name = "Reconciler",
    description =
        "The loop that repairs what lost webhooks left undone and reaps resources whose workflow"
            + " is gone.")
class ReconcilerController {
  static final String NOT_RUNNING =
      "The reconciler is not running: it is disabled (ephemera.reconciler.enabled=false), or no"
          + " worker has started it yet.";

  private final WorkflowClient client;
  private final WorkflowReader reader;

  ReconcilerController(WorkflowClient client, WorkflowReader reader) {
    this.client = client;
    this.reader = reader;
  }

  @GetMapping
  @Operation(
      operationId = "getReconciler",
      summary = "Show the reconciler's last pass",
      description =
          "When it ran and how long it took, per resource kind how many were live, found orphaned,"
              + " reaped, failed or blocked by a failing source, the repairs made, the errors per"
              + " source, and whether it was a dry run. `lastPass` is null until the first pass"
              + " has finished.")
  @ApiResponse(responseCode = "200", description = "The reconciler's status.")
  @ApiResponse(
      responseCode = "503",
      description =
          "The reconciler is not running (`reconciler-not-running`), or no worker answered in"
              + " time (`temporal-unavailable`).")
  ReconcilerStatus get() {
    WorkflowExecutionDescription description;
    try {
      description = client.newUntypedWorkflowStub(ReconcilerWorkflow.ID).describe();
    } catch (RuntimeException e) {
      if (TemporalErrors.isNotFound(e)) {
        throw notRunning();
      }
      throw e;
    }
    if (description.getStatus() != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
      throw notRunning();
    }
    WorkflowStub run =
        client.newUntypedWorkflowStub(
            ReconcilerWorkflow.ID,
            Optional.of(description.getExecution().getRunId()),
            Optional.of(ReconcilerWorkflow.TYPE));
    return reader.withinWorkerTimeout(
        () -> run.query(ReconcilerWorkflow.QUERY_STATUS, ReconcilerStatus.class),
        "reading the reconciler's status");
  }

  private static ApiException notRunning() {
    return new ApiException(ProblemType.RECONCILER_NOT_RUNNING, NOT_RUNNING)
        .withHeader(HttpHeaders.RETRY_AFTER, "60");
  }
}
