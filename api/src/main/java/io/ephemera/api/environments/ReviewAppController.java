package io.ephemera.api.environments;

import io.ephemera.api.StopReason;
import io.ephemera.api.error.ApiException;
import io.ephemera.api.error.ProblemType;
import io.ephemera.common.WorkflowIds;
import io.ephemera.reviewapp.ExtendResult;
import io.ephemera.reviewapp.ReviewAppPhase;
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
@RequestMapping("/api/v1/review-apps")
class ReviewAppController {
  static final String DEFAULT_STOP_REASON = "stopped through the API";

  private final ReviewApps reviewApps;

  ReviewAppController(ReviewApps reviewApps) {
    this.reviewApps = reviewApps;
  }

  @GetMapping
  ReviewAppList list(@RequestParam(name = "phase", required = false) String phase) {
    return new ReviewAppList(reviewApps.list(phase(phase)));
  }

  @GetMapping("/{projectId}/{iid}")
  ReviewAppView get(@PathVariable("projectId") long projectId, @PathVariable("iid") long iid) {
    checkIds(projectId, iid);
    return reviewApps
        .find(projectId, iid)
        .orElseThrow(
            () ->
                ApiException.notFound(
                    "No review app for merge request !" + iid + " of project " + projectId + "."));
  }

  @PostMapping("/{projectId}/{iid}/stop")
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
