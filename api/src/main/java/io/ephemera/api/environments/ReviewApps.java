package io.ephemera.api.environments;

import io.ephemera.api.WorkflowReader;
import io.ephemera.api.WorkflowReader.Found;
import io.ephemera.api.error.ApiException;
import io.ephemera.api.error.ProblemType;
import io.ephemera.api.error.TemporalErrors;
import io.ephemera.common.WorkflowIds;
import io.ephemera.reviewapp.ExtendRequest;
import io.ephemera.reviewapp.ExtendResult;
import io.ephemera.reviewapp.ReviewAppPhase;
import io.ephemera.reviewapp.ReviewAppResult;
import io.ephemera.reviewapp.ReviewAppStatus;
import io.ephemera.reviewapp.ReviewAppWorkflow;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.client.WorkflowUpdateStage;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.stereotype.Service;

/**
 * The REST API's view of review apps, read from and written to Temporal: the workflows are the only
 * state there is. Reads go through {@link WorkflowReader}; calls that need a worker (queries,
 * updates) are bounded by {@code ephemera.api.worker-timeout}.
 */
@Service
class ReviewApps {
  private static final Pattern WORKFLOW_ID = Pattern.compile("review-app/(\\d+)/mr-(\\d+)");

  private final WorkflowClient client;
  private final WorkflowReader reader;

  ReviewApps(WorkflowClient client, WorkflowReader reader) {
    this.client = client;
    this.reader = reader;
  }

  /** Open review apps, optionally only those in {@code phase}, ordered by project and MR. */
  List<ReviewAppView> list(ReviewAppPhase phase) {
    List<String> ids = reader.openWorkflowIds(ReviewAppWorkflow.TYPE, phase);
    return reader.queryAll(ids, ReviewAppWorkflow.QUERY_STATUS, ReviewAppStatus.class).stream()
        .map(ReviewApps::view)
        .filter(v -> phase == null || v.phase() == phase)
        .sorted(
            Comparator.comparingLong(ReviewAppView::projectId)
                .thenComparingLong(ReviewAppView::mrIid))
        .toList();
  }

  private static ReviewAppView view(WorkflowReader.Answer<ReviewAppStatus> answer) {
    if (answer.status() != null) {
      return ReviewAppView.of(answer.workflowId(), answer.status());
    }
    Matcher m = WORKFLOW_ID.matcher(answer.workflowId());
    long projectId = m.matches() ? Long.parseLong(m.group(1)) : 0;
    long iid = m.matches() ? Long.parseLong(m.group(2)) : 0;
    return ReviewAppView.unknown(answer.workflowId(), projectId, iid, answer.failure());
  }

  /** The review app of a merge request, running or finished; empty when there never was one. */
  Optional<ReviewAppView> find(long projectId, long iid) {
    String workflowId = WorkflowIds.reviewApp(projectId, iid);
    return reader
        .find(
            workflowId,
            ReviewAppWorkflow.TYPE,
            ReviewAppWorkflow.QUERY_STATUS,
            ReviewAppStatus.class,
            ReviewAppResult.class,
            ReviewAppResult::finalStatus)
        .map(
            found ->
                switch (found) {
                  case Found.Running<ReviewAppStatus> r -> ReviewAppView.of(workflowId, r.status());
                  case Found.Finished<ReviewAppStatus> f ->
                      ReviewAppView.of(workflowId, f.status());
                  case Found.Ended<ReviewAppStatus> e -> ended(workflowId, projectId, iid, e);
                });
  }

  /**
   * Failed, terminated or timed out (a cancelled review app tears down and completes normally): its
   * teardown may never have run, so no phase is claimed. The last known status, when a worker can
   * replay it, names the namespace and URL someone may have to clean up.
   */
  private static ReviewAppView ended(
      String workflowId, long projectId, long iid, Found.Ended<ReviewAppStatus> ended) {
    String why = "the workflow " + ended.how() + " without finishing its teardown";
    return ended.lastKnown() == null
        ? ReviewAppView.unknown(workflowId, projectId, iid, why + "; last status unknown")
        : ReviewAppView.of(workflowId, ended.lastKnown()).closedAbnormally(why);
  }

  /**
   * Asks the review app to stop.
   *
   * @return false when there is no running review app for this merge request
   */
  boolean stop(long projectId, long iid, String reason) {
    String workflowId = WorkflowIds.reviewApp(projectId, iid);
    try {
      client.newUntypedWorkflowStub(workflowId).signal(ReviewAppWorkflow.SIGNAL_STOP, reason);
      return true;
    } catch (RuntimeException e) {
      if (TemporalErrors.isNotFound(e)) {
        return false;
      }
      throw e;
    }
  }

  /**
   * Keeps the review app for {@code duration} from now, through the workflow's validated update.
   *
   * @return empty when there is no running review app for this merge request
   */
  Optional<ExtendResult> extend(long projectId, long iid, Duration duration) {
    String workflowId = WorkflowIds.reviewApp(projectId, iid);
    WorkflowStub stub = client.newUntypedWorkflowStub(workflowId);
    try {
      return Optional.of(
          reader.withinWorkerTimeout(
              () ->
                  stub.startUpdate(
                          ReviewAppWorkflow.UPDATE_EXTEND,
                          WorkflowUpdateStage.COMPLETED,
                          ExtendResult.class,
                          new ExtendRequest(duration.toString()))
                      .getResult(),
              "extending the review app"));
    } catch (RuntimeException e) {
      Optional<WorkflowUpdateException> rejected =
          TemporalErrors.find(e, WorkflowUpdateException.class);
      if (rejected.isPresent()) {
        throw rejection(rejected.get());
      }
      if (TemporalErrors.isNotFound(e)) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** The validator's refusal, in its own words; a wrong duration keeps its own problem type. */
  private static ApiException rejection(WorkflowUpdateException e) {
    Optional<ApplicationFailure> failure = TemporalErrors.find(e, ApplicationFailure.class);
    String message =
        failure.map(ApplicationFailure::getOriginalMessage).orElse("the update was rejected");
    boolean badArgument =
        failure
            .map(f -> IllegalArgumentException.class.getName().equals(f.getType()))
            .orElse(false);
    return new ApiException(
        badArgument ? ProblemType.INVALID_DURATION : ProblemType.UPDATE_REJECTED, message);
  }
}
