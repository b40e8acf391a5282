package io.ephemera.apitest;

import io.ephemera.reviewapp.DeployRequest;
import io.ephemera.reviewapp.ExtendRequest;
import io.ephemera.reviewapp.ExtendResult;
import io.ephemera.reviewapp.ReviewAppPhase;
import io.ephemera.reviewapp.ReviewAppRequest;
import io.ephemera.reviewapp.ReviewAppResult;
import io.ephemera.reviewapp.ReviewAppStatus;
import io.ephemera.reviewapp.ReviewAppWorkflow;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInit;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Stands in for the real review app on the test server: it registers under the same type and
 * handler names, becomes READY on every deploy signal (recording each one, without deduplicating:
 * that is the real workflow's job), and finishes on {@code stop}. Enough to exercise signal-with-
 * start, USE_EXISTING, queries, updates and closed workflows for real.
 */
public class FakeReviewAppWorkflow implements ReviewAppWorkflow, DeployLog {
  static final Duration MAX_EXTEND = Duration.ofDays(30);

  private final ReviewAppRequest request;
  private final List<DeployRequest> deploys = new ArrayList<>();
  private ReviewAppPhase phase = ReviewAppPhase.PENDING;
  private String sha;
  private String url;
  private Instant autoStopAt;
  private String stopReason;

  @WorkflowInit
  public FakeReviewAppWorkflow(ReviewAppRequest request) {
    this.request = request;
  }

  @Override
  public ReviewAppResult run(ReviewAppRequest ignored) {
    autoStopAt = now().plus(Duration.ofDays(3));
    Workflow.await(() -> stopReason != null);
    phase = ReviewAppPhase.STOPPED;
    url = null;
    return new ReviewAppResult(status());
  }

  @Override
  public void deploy(DeployRequest deploy) {
    deploys.add(deploy);
    if (stopReason == null) {
      sha = deploy.sha();
      url = "https://mr-" + request.mrIid() + ".review.test";
      phase = ReviewAppPhase.READY;
    }
  }

  @Override
  public void stop(String reason) {
    if (stopReason == null) {
      stopReason = reason;
    }
  }

  @Override
  public void validateExtend(ExtendRequest extend) {
    if (stopReason != null) {
      throw new IllegalStateException("the review app is stopping: " + stopReason);
    }
    Duration d = Duration.parse(extend.duration());
    if (d.compareTo(MAX_EXTEND) > 0) {
      throw new IllegalArgumentException(
          "duration " + d + " is longer than the maximum " + MAX_EXTEND);
    }
  }

  @Override
  public ExtendResult extend(ExtendRequest extend) {
    autoStopAt = now().plus(Duration.parse(extend.duration()));
    return new ExtendResult(autoStopAt);
  }

  @Override
  public ReviewAppStatus status() {
    return new ReviewAppStatus(
        request.projectId(),
        request.projectPath(),
        request.mrIid(),
        phase,
        sha,
        url,
        "review-" + request.projectId() + "-mr-" + request.mrIid(),
        phase == ReviewAppPhase.READY || phase == ReviewAppPhase.STOPPED ? deploys.size() : 0,
        autoStopAt,
        url == null ? List.of() : List.of("Deployment/review/app"),
        null,
        stopReason);
  }

  @Override
  public List<DeployRequest> deploys() {
    return List.copyOf(deploys);
  }

  private static Instant now() {
    return Instant.ofEpochMilli(Workflow.currentTimeMillis());
  }
}
