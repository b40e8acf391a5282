package io.ephemera.api.runners;

import io.ephemera.api.StopReason;
import io.ephemera.api.error.ApiException;
import io.ephemera.common.WorkflowIds;
import io.ephemera.runner.RunnerPhase;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.Arrays;
import java.util.Locale;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code /api/v1/runners}: read and stop single-use runners, one per CI job. Bearer-authenticated
 * like the rest of {@code /api/**}.
 */
@RestController
@RequestMapping(path = "/api/v1/runners", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(name = "Runners", description = "Single-use CI runners, one per job, owned by its workflow.")
class RunnerController {
  static final String DEFAULT_STOP_REASON = "stopped through the API";

  private final Runners runners;

  RunnerController(Runners runners) {
    this.runners = runners;
  }

  @GetMapping
  @Operation(
      operationId = "listRunners",
      summary = "List running runners",
      description = "At most 500, ordered by project and job.")
  @ApiResponse(responseCode = "200", description = "The running runners.")
  @ApiResponse(responseCode = "400", description = "An unknown phase (`invalid-field`).")
  RunnerList list(
      @Parameter(
              description = "Only runners in this phase (case-insensitive).",
              schema = @Schema(implementation = RunnerPhase.class))
          @RequestParam(name = "phase", required = false)
          String phase) {
    return new RunnerList(runners.list(phase(phase)));
  }

  @GetMapping("/{projectId}/{jobId}")
  @Operation(
      operationId = "getRunner",
      summary = "Show a runner",
      description =
          "Running (from the workflow's status query) or finished (from its result, whole history"
              + " included). One that ended without a result has no phase and says why in"
              + " lastError.")
  @ApiResponse(responseCode = "200", description = "The runner.")
  @ApiResponse(responseCode = "400", description = "An id that is not a positive whole number.")
  @ApiResponse(responseCode = "404", description = "There never was a runner for this job.")
  @ApiResponse(responseCode = "503", description = "No worker answered the status query in time.")
  RunnerView get(
      @Parameter(description = "GitLab project id.") @PathVariable("projectId") long projectId,
      @Parameter(description = "GitLab CI job id.") @PathVariable("jobId") long jobId) {
    checkIds(projectId, jobId);
    return runners
        .find(projectId, jobId)
        .orElseThrow(
            () ->
                ApiException.notFound(
                    "No runner for job " + jobId + " of project " + projectId + "."));
  }

  @PostMapping("/{projectId}/{jobId}/stop")
  @Operation(
      operationId = "stopRunner",
      summary = "Stop a runner",
      description =
          "Signals the workflow to deregister the runner and destroy its compute now. The reason"
              + " is at most 500 characters.")
  @ApiResponse(responseCode = "202", description = "The stop was recorded.")
  @ApiResponse(responseCode = "400", description = "A bad id or an unreadable body.")
  @ApiResponse(responseCode = "404", description = "No runner of this job is running.")
  @ApiResponse(responseCode = "415", description = "A body that is not JSON.")
  @ApiResponse(responseCode = "503", description = "Temporal did not answer.")
  ResponseEntity<StopAccepted> stop(
      @PathVariable("projectId") long projectId,
      @PathVariable("jobId") long jobId,
      @RequestBody(required = false) StopBody body) {
    checkIds(projectId, jobId);
    String reason = StopReason.of(body == null ? null : body.reason(), DEFAULT_STOP_REASON);
    if (!runners.stop(projectId, jobId, reason)) {
      throw ApiException.notFound(
          "No running runner for job " + jobId + " of project " + projectId + ".");
    }
    return ResponseEntity.accepted()
        .body(new StopAccepted(WorkflowIds.runner(projectId, jobId), reason));
  }

  private static RunnerPhase phase(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    try {
      return RunnerPhase.valueOf(value.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw ApiException.invalidField(
          "phase", "phase must be one of " + Arrays.toString(RunnerPhase.values()) + ".");
    }
  }

  private static void checkIds(long projectId, long jobId) {
    if (projectId <= 0) {
      throw ApiException.invalidField("projectId", "projectId must be positive.");
    }
    if (jobId <= 0) {
      throw ApiException.invalidField("jobId", "jobId must be positive.");
    }
  }
}
