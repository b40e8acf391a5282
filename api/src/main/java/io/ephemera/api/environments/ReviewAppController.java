package io.ephemera.api.environments;

import io.ephemera.api.StopReason;
import io.ephemera.api.error.ApiException;
import io.ephemera.api.error.ProblemType;
import io.ephemera.common.WorkflowIds;
import io.ephemera.reviewapp.ExtendResult;
import io.ephemera.reviewapp.ReviewAppPhase;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.time.Duration;
import java.time.format.DateTimeParseException;
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

/** {@code /api/v1/review-apps}: read, stop and extend review apps. Bearer-authenticated. */
@RestController
@RequestMapping(path = "/api/v1/review-apps", produces = MediaType.APPLICATION_JSON_VALUE)
@Tag(
    name = "Review apps",
    description = "One environment per merge request, owned by its workflow.")
class ReviewAppController {
  static final String DEFAULT_STOP_REASON = "stopped through the API";

  private final ReviewApps reviewApps;

  ReviewAppController(ReviewApps reviewApps) {
    this.reviewApps = reviewApps;
  }

  @GetMapping
  @Operation(
      operationId = "listReviewApps",
      summary = "List running review apps",
      description = "At most 500, ordered by project and merge request.")
  @ApiResponse(responseCode = "200", description = "The running review apps.")
  @ApiResponse(responseCode = "400", description = "An unknown phase (`invalid-field`).")
  ReviewAppList list(
      @Parameter(
              description = "Only review apps in this phase (case-insensitive).",
              schema = @Schema(implementation = ReviewAppPhase.class))
          @RequestParam(name = "phase", required = false)
          String phase) {
    return new ReviewAppList(reviewApps.list(phase(phase)));
  }

  @GetMapping("/{projectId}/{iid}")
  @Operation(
      operationId = "getReviewApp",
      summary = "Show a review app",
      description =
          "Running (from the workflow's status query) or finished (from its result). One that"
              + " ended without a result has no phase and says why in lastError.")
  @ApiResponse(responseCode = "200", description = "The review app.")
  @ApiResponse(responseCode = "400", description = "An id that is not a positive whole number.")
  @ApiResponse(responseCode = "404", description = "There never was a review app for this MR.")
  @ApiResponse(responseCode = "503", description = "No worker answered the status query in time.")
  ReviewAppView get(
      @Parameter(description = "GitLab project id.") @PathVariable("projectId") long projectId,
      @Parameter(description = "Merge request iid (`!7`).") @PathVariable("iid") long iid) {
    checkIds(projectId, iid);
    return reviewApps
        .find(projectId, iid)
        .orElseThrow(
            () ->
                ApiException.notFound(
                    "No review app for merge request !" + iid + " of project " + projectId + "."));
  }

  @PostMapping("/{projectId}/{iid}/stop")
  @Operation(
      operationId = "stopReviewApp",
      summary = "Stop a review app",
      description =
          "Signals the workflow to tear the environment down; teardown continues after the"
              + " answer. The reason is at most 500 characters.")
  @ApiResponse(responseCode = "202", description = "The stop was recorded.")
  @ApiResponse(responseCode = "400", description = "A bad id or an unreadable body.")
  @ApiResponse(responseCode = "404", description = "No review app of this MR is running.")
  @ApiResponse(responseCode = "415", description = "A body that is not JSON.")
  @ApiResponse(responseCode = "503", description = "Temporal did not answer.")
  ResponseEntity<StopAccepted> stop(
      @PathVariable("projectId") long projectId,
      @PathVariable("iid") long iid,
      @RequestBody(required = false) StopBody body) {
    checkIds(projectId, iid);
    String reason = StopReason.of(body == null ? null : body.reason(), DEFAULT_STOP_REASON);
    if (!reviewApps.stop(projectId, iid, reason)) {
      throw notFound(projectId, iid);
    }
    return ResponseEntity.accepted()
        .body(new StopAccepted(WorkflowIds.reviewApp(projectId, iid), reason));
  }

  @PostMapping(path = "/{projectId}/{iid}/extend", consumes = MediaType.APPLICATION_JSON_VALUE)
  @Operation(
      operationId = "extendReviewApp",
      summary = "Keep a review app longer",
      description =
          "Moves the auto-stop so the app lives at least this long from now; never shortens."
              + " Validated by the workflow, so a worker must answer.")
  @ApiResponse(responseCode = "200", description = "The new auto-stop time.")
  @ApiResponse(
      responseCode = "400",
      description =
          "A bad id, a missing or unreadable body (`malformed-payload`), a missing, non-ISO-8601,"
              + " non-positive or too long duration (`invalid-duration`), or another refusal by"
              + " the workflow (`update-rejected`).")
  @ApiResponse(responseCode = "404", description = "No review app of this MR is running.")
  @ApiResponse(responseCode = "415", description = "A body that is not `application/json`.")
  @ApiResponse(responseCode = "503", description = "No worker answered in time.")
  ExtendResult extend(
      @PathVariable("projectId") long projectId,
      @PathVariable("iid") long iid,
      @RequestBody ExtendBody body) {
    checkIds(projectId, iid);
    // Checked here so that a typo costs no Temporal round trip and gets the same answer always.
    Duration duration = duration(body.duration());
    return reviewApps.extend(projectId, iid, duration).orElseThrow(() -> notFound(projectId, iid));
  }

  static Duration duration(String value) {
    if (value == null || value.isBlank()) {
      throw new ApiException(
              ProblemType.INVALID_DURATION, "duration is required, e.g. {\"duration\": \"PT48H\"}.")
          .with("field", "duration");
    }
    Duration duration;
    try {
      duration = Duration.parse(value.strip());
    } catch (DateTimeParseException e) {
      throw new ApiException(
              ProblemType.INVALID_DURATION,
              "duration must be an ISO-8601 duration such as PT48H or P2D.")
          .with("field", "duration");
    }
    if (duration.isNegative() || duration.isZero()) {
      throw new ApiException(
              ProblemType.INVALID_DURATION, "duration must be positive, was " + duration + ".")
          .with("field", "duration");
    }
    return duration;
  }

  private static ReviewAppPhase phase(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    try {
      return ReviewAppPhase.valueOf(value.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw ApiException.invalidField(
          "phase", "phase must be one of " + Arrays.toString(ReviewAppPhase.values()) + ".");
    }
  }

  private static void checkIds(long projectId, long iid) {
    if (projectId <= 0) {
      throw ApiException.invalidField("projectId", "projectId must be positive.");
    }
    if (iid <= 0) {
      throw ApiException.invalidField("iid", "iid must be positive.");
    }
  }

  private static ApiException notFound(long projectId, long iid) {
    return ApiException.notFound(
        "No running review app for merge request !" + iid + " of project " + projectId + ".");
  }
}
