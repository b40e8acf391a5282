package io.ephemera.api.environments;

import com.google.protobuf.ByteString;
import io.ephemera.api.Bounded;
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
import io.grpc.Status;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.filter.v1.WorkflowTypeFilter;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.api.workflowservice.v1.ListOpenWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.ListOpenWorkflowExecutionsResponse;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionDescription;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.client.WorkflowUpdateStage;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Service;

/**
 * The REST API's view of review apps, read from and written to Temporal: the workflows are the only
 * state there is. Calls that need a worker (queries, updates) are bounded by {@code
 * ephemera.api.worker-timeout}; the SDK would otherwise wait for one indefinitely.
 */
@Service
class ReviewApps {
  private static final Logger log = LoggerFactory.getLogger(ReviewApps.class);

  /** More open review apps than this are not listed: one query each is the cost of a listing. */
  static final int MAX_LISTED = 500;

  static final String OPEN_REVIEW_APPS =
      "WorkflowType = '" + ReviewAppWorkflow.TYPE + "' AND ExecutionStatus = 'Running'";

  private static final int QUERY_CONCURRENCY = 16;
  private static final int PAGE_SIZE = 100;
  private static final Pattern WORKFLOW_ID = Pattern.compile("review-app/(\\d+)/mr-(\\d+)");

  private final WorkflowClient client;
  private final Duration workerTimeout;

  ReviewApps(WorkflowClient client, ApiProperties properties) {
    this.client = client;
    this.workerTimeout = properties.workerTimeout();
  }

  /** Open review apps, optionally only those in {@code phase}, ordered by project and MR. */
  List<ReviewAppView> list(ReviewAppPhase phase) {
    List<ReviewAppView> views = statuses(openWorkflowIds());
    return views.stream()
        .filter(v -> phase == null || v.phase() == phase)
        .sorted(
            Comparator.comparingLong(ReviewAppView::projectId)
                .thenComparingLong(ReviewAppView::mrIid))
        .toList();
  }

  /** The review app of a merge request, running or finished; empty when there never was one. */
  Optional<ReviewAppView> find(long projectId, long iid) {
    String workflowId = WorkflowIds.reviewApp(projectId, iid);
    WorkflowExecutionDescription description;
    try {
      description = client.newUntypedWorkflowStub(workflowId).describe();
    } catch (RuntimeException e) {
      if (TemporalErrors.isNotFound(e)) {
        return Optional.empty();
      }
      throw e;
    }
    if (!ReviewAppWorkflow.TYPE.equals(description.getWorkflowType())) {
      return Optional.empty();
    }
    // Pinned to the described run: a new run started meanwhile must not make getResult wait on it.
    WorkflowStub run =
        client.newUntypedWorkflowStub(
            workflowId,
            Optional.of(description.getExecution().getRunId()),
            Optional.of(ReviewAppWorkflow.TYPE));
    WorkflowExecutionStatus status = description.getStatus();
    if (status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
      return Optional.of(ReviewAppView.of(workflowId, queryStatus(run)));
    }
    if (status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
      // Served from history by the server alone: a finished app is visible without any worker.
      ReviewAppResult result =
          withinWorkerTimeout(
              () -> run.getResult(ReviewAppResult.class), "reading the review app's result");
      if (result != null && result.finalStatus() != null) {
        return Optional.of(ReviewAppView.of(workflowId, result.finalStatus()));
      }
    }
    return Optional.of(closedWithoutResult(workflowId, projectId, iid, run, status));
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
          withinWorkerTimeout(
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

  private ReviewAppStatus queryStatus(WorkflowStub stub) {
    return withinWorkerTimeout(
        () -> stub.query(ReviewAppWorkflow.QUERY_STATUS, ReviewAppStatus.class),
        "querying the review app's status");
  }

  /**
   * Failed, terminated or timed out (a cancelled review app tears down and completes normally): its
   * teardown may never have run, so no phase is claimed. A worker can still replay the last known
   * status, which names the namespace and URL someone may have to clean up.
   */
  private ReviewAppView closedWithoutResult(
      String workflowId, long projectId, long iid, WorkflowStub run, WorkflowExecutionStatus s) {
    String closed =
        s.name()
            .replace("WORKFLOW_EXECUTION_STATUS_", "")
            .toLowerCase(Locale.ROOT)
            .replace('_', ' ');
    String why = "the workflow " + closed + " without finishing its teardown";
    try {
      return ReviewAppView.of(workflowId, queryStatus(run)).closedAbnormally(why);
    } catch (RuntimeException e) {
      log.debug("No status for closed {}: {}", workflowId, e.toString());
      return ReviewAppView.unknown(workflowId, projectId, iid, why + "; last status unknown");
    }
  }

  /** Queries every app concurrently; an app that does not answer in time is listed as unknown. */
  private List<ReviewAppView> statuses(List<String> workflowIds) {
    ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
    try {
      Semaphore permits = new Semaphore(QUERY_CONCURRENCY);
      List<Future<ReviewAppStatus>> answers = new ArrayList<>(workflowIds.size());
      for (String id : workflowIds) {
        answers.add(
            pool.submit(
                () -> {
                  permits.acquire();
                  try {
                    return client
                        .newUntypedWorkflowStub(id)
                        .query(ReviewAppWorkflow.QUERY_STATUS, ReviewAppStatus.class);
                  } finally {
                    permits.release();
                  }
                }));
      }
      long deadline = System.nanoTime() + workerTimeout.toNanos();
      List<ReviewAppView> views = new ArrayList<>(workflowIds.size());
      for (int i = 0; i < workflowIds.size(); i++) {
        String id = workflowIds.get(i);
        views.add(answer(id, answers.get(i), deadline));
      }
      return views;
    } finally {
      pool.shutdownNow();
    }
  }

  private static ReviewAppView answer(String id, Future<ReviewAppStatus> answer, long deadline) {
    Matcher m = WORKFLOW_ID.matcher(id);
    long projectId = m.matches() ? Long.parseLong(m.group(1)) : 0;
    long iid = m.matches() ? Long.parseLong(m.group(2)) : 0;
    try {
      long left = Math.max(0, deadline - System.nanoTime());
      return ReviewAppView.of(id, answer.get(left, TimeUnit.NANOSECONDS));
    } catch (TimeoutException e) {
      answer.cancel(true);
      return ReviewAppView.unknown(id, projectId, iid, "status not answered in time");
    } catch (ExecutionException e) {
      log.debug("Status query of {} failed: {}", id, e.getCause().toString());
      return ReviewAppView.unknown(id, projectId, iid, "status query failed");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while listing review apps", e);
    }
  }

  /** Ids of running review apps, at most {@link #MAX_LISTED}. */
  private List<String> openWorkflowIds() {
    try {
      return client
          .listExecutions(OPEN_REVIEW_APPS)
          .limit(MAX_LISTED)
          .map(m -> m.getExecution().getWorkflowId())
          .distinct()
          .toList();
    } catch (RuntimeException e) {
      Optional<Status.Code> code = TemporalErrors.grpcCode(e);
      if (code.isPresent()
          && (code.get() == Status.Code.UNIMPLEMENTED
              || code.get() == Status.Code.INVALID_ARGUMENT)) {
        // Servers without advanced visibility (and the SDK's test server) only list the old way.
        log.debug("List query not supported ({}); listing open executions instead", code.get());
        return openWorkflowIdsWithoutVisibilityQuery();
      }
      throw e;
    }
  }

  private List<String> openWorkflowIdsWithoutVisibilityQuery() {
    String namespace = client.getOptions().getNamespace();
    Set<String> ids = new LinkedHashSet<>();
    ByteString page = ByteString.EMPTY;
    do {
      ListOpenWorkflowExecutionsResponse response =
          client
              .getWorkflowServiceStubs()
              .blockingStub()
              .withDeadlineAfter(workerTimeout.toMillis(), TimeUnit.MILLISECONDS)
              .listOpenWorkflowExecutions(
                  ListOpenWorkflowExecutionsRequest.newBuilder()
                      .setNamespace(namespace)
                      .setMaximumPageSize(PAGE_SIZE)
                      .setTypeFilter(
                          WorkflowTypeFilter.newBuilder().setName(ReviewAppWorkflow.TYPE))
                      .setNextPageToken(page)
                      .build());
      for (WorkflowExecutionInfo info : response.getExecutionsList()) {
        // Filtered again here: not every server honours the type filter.
        if (ReviewAppWorkflow.TYPE.equals(info.getType().getName()) && ids.size() < MAX_LISTED) {
          ids.add(info.getExecution().getWorkflowId());
        }
      }
      page = response.getNextPageToken();
    } while (!page.isEmpty() && ids.size() < MAX_LISTED);
    return List.copyOf(ids);
  }

  /** Calls that need a worker: without one polling, the SDK would keep the request waiting. */
  private <T> T withinWorkerTimeout(Supplier<T> call, String what) {
    try {
      return Bounded.call(workerTimeout, "ephemera-api-temporal-call", call);
    } catch (TimeoutException e) {
      throw new ApiException(
              ProblemType.TEMPORAL_UNAVAILABLE,
              "No answer within "
                  + workerTimeout.toSeconds()
                  + " s while "
                  + what
                  + "; is a worker running?")
          .withHeader(HttpHeaders.RETRY_AFTER, "10");
    }
  }
}
