package io.ephemera.api.runners;

import io.ephemera.api.StopReason;
import io.ephemera.api.error.ApiException;
import io.ephemera.common.WorkflowIds;
import io.ephemera.runner.RunnerPhase;
import java.util.Arrays;
import java.util.Locale;
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
@RequestMapping("/api/v1/runners")
class RunnerController {
  static final String DEFAULT_STOP_REASON = "stopped through the API";

  private final Runners runners;

  RunnerController(Runners runners) {
    this.runners = runners;
  }

  @GetMapping
  RunnerList list(@RequestParam(name = "phase", required = false) String phase) {
    return new RunnerList(runners.list(phase(phase)));
  }

  @GetMapping("/{projectId}/{jobId}")
  RunnerView get(@PathVariable("projectId") long projectId, @PathVariable("jobId") long jobId) {
    checkIds(projectId, jobId);
    return runners
        .find(projectId, jobId)
        .orElseThrow(
            () ->
                ApiException.notFound(
                    "No runner for job " + jobId + " of project " + projectId + "."));
  }

  @PostMapping("/{projectId}/{jobId}/stop")
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
