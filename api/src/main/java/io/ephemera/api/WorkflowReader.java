package io.ephemera.api;

import com.google.protobuf.ByteString;
import io.ephemera.api.environments.ApiProperties;
import io.ephemera.api.error.ApiException;
import io.ephemera.api.error.ProblemType;
import io.ephemera.api.error.TemporalErrors;
import io.grpc.Status;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.filter.v1.WorkflowTypeFilter;
import io.temporal.api.workflow.v1.WorkflowExecutionInfo;
import io.temporal.api.workflowservice.v1.ListOpenWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.ListOpenWorkflowExecutionsResponse;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionDescription;
import io.temporal.client.WorkflowStub;
import java.time.Duration;
import java.util.ArrayList;
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
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;

/**
 * Reads workflows for the REST API, the same way for every kind (review apps, runners): which ones
 * are open, what each one's status query answers, and what a closed one ended with. The workflows
 * are the only state there is. Calls that need a worker (queries) are bounded by {@code
 * ephemera.api.worker-timeout}; the SDK would otherwise wait for one indefinitely.
 */
@Component
public class WorkflowReader {
  private static final Logger log = LoggerFactory.getLogger(WorkflowReader.class);

  /** More open workflows of a kind than this are not listed: one query each is the cost. */
  public static final int MAX_LISTED = 500;

  private static final int QUERY_CONCURRENCY = 16;
  private static final int PAGE_SIZE = 100;

  private final WorkflowClient client;
  private final Duration workerTimeout;

  WorkflowReader(WorkflowClient client, ApiProperties properties) {
    this.client = client;
    this.workerTimeout = properties.workerTimeout();
  }

  /** The visibility query listing running workflows of {@code type}. */
  public static String openWorkflowsQuery(String type) {
    return "WorkflowType = '" + type + "' AND ExecutionStatus = 'Running'";
  }

  /**
   * The visibility query listing running workflows of {@code type} in {@code phase} (the {@code
   * Phase} search attribute workflows upsert), or in any phase when null.
   */
  public static String openWorkflowsQuery(String type, Enum<?> phase) {
    // Enum names only: nothing user-typed is ever spliced into the query.
    return phase == null
        ? openWorkflowsQuery(type)
        : openWorkflowsQuery(type) + " AND Phase = '" + phase.name() + "'";
  }

  /** Ids of running workflows of {@code type}, at most {@link #MAX_LISTED}. */
  public List<String> openWorkflowIds(String type) {
    return openWorkflowIds(type, null);
  }

  /**
   * Ids of running workflows of {@code type}, filtered by {@code phase} on servers with list
   * queries (callers still filter the statuses they read: the fallback lists every phase, and a
   * phase may change between listing and reading).
   */
  public List<String> openWorkflowIds(String type, Enum<?> phase) {
    try {
      return client
          .listExecutions(openWorkflowsQuery(type, phase))
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
        return openWorkflowIdsWithoutVisibilityQuery(type);
      }
      throw e;
    }
  }

  /** One workflow's answer to a status query in a listing: its status, or why there is none. */
  public record Answer<S>(String workflowId, S status, String failure) {}

  /**
   * Queries every workflow concurrently; one that does not answer within the worker timeout, or
   * fails, is answered with a failure instead of failing the whole listing.
   */
  public <S> List<Answer<S>> queryAll(List<String> workflowIds, String query, Class<S> type) {
    ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
    try {
      Semaphore permits = new Semaphore(QUERY_CONCURRENCY);
      List<Future<S>> answers = new ArrayList<>(workflowIds.size());
      for (String id : workflowIds) {
        answers.add(
            pool.submit(
                () -> {
                  permits.acquire();
                  try {
                    return client.newUntypedWorkflowStub(id).query(query, type);
                  } finally {
                    permits.release();
                  }
                }));
      }
      long deadline = System.nanoTime() + workerTimeout.toNanos();
      List<Answer<S>> result = new ArrayList<>(workflowIds.size());
      for (int i = 0; i < workflowIds.size(); i++) {
        result.add(answer(workflowIds.get(i), answers.get(i), deadline));
      }
      return result;
    } finally {
      pool.shutdownNow();
    }
  }

  private static <S> Answer<S> answer(String id, Future<S> answer, long deadline) {
    try {
      long left = Math.max(0, deadline - System.nanoTime());
      return new Answer<>(id, answer.get(left, TimeUnit.NANOSECONDS), null);
    } catch (TimeoutException e) {
      answer.cancel(true);
      return new Answer<>(id, null, "status not answered in time");
    } catch (ExecutionException e) {
      log.debug("Status query of {} failed: {}", id, e.getCause().toString());
      return new Answer<>(id, null, "status query failed");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while listing workflows", e);
    }
  }

  /** What a workflow is, or was, as far as Temporal can tell. */
  public sealed interface Found<S> {
    /** Running: {@code status} is what its status query answered now. */
    record Running<S>(S status) implements Found<S> {}

    /** Completed: {@code status} is the final status it returned. */
    record Finished<S>(S status) implements Found<S> {}

    /**
     * Closed without a final status (failed, terminated, timed out, ...): its clean-up may never
     * have run. {@code lastKnown} is the status a worker could replay, or null.
     */
    record Ended<S>(String how, S lastKnown) implements Found<S> {}
  }

  /**
   * The workflow {@code workflowId} of {@code type}, running or closed; empty when there never was
   * one (or the id belongs to another type).
   *
   * @param finalStatus the final status inside the workflow's result, or null if it has none
   */
  public <S, R> Optional<Found<S>> find(
      String workflowId,
      String type,
      String query,
      Class<S> statusType,
      Class<R> resultType,
      Function<R, S> finalStatus) {
    WorkflowExecutionDescription description;
    try {
      description = client.newUntypedWorkflowStub(workflowId).describe();
    } catch (RuntimeException e) {
      if (TemporalErrors.isNotFound(e)) {
        return Optional.empty();
      }
      throw e;
    }
    if (!type.equals(description.getWorkflowType())) {
      return Optional.empty();
    }
    // Pinned to the described run: a new run started meanwhile must not make getResult wait on it.
    WorkflowStub run =
        client.newUntypedWorkflowStub(
            workflowId, Optional.of(description.getExecution().getRunId()), Optional.of(type));
    WorkflowExecutionStatus status = description.getStatus();
    String what = "reading " + workflowId;
    if (status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
      return Optional.of(
          new Found.Running<>(withinWorkerTimeout(() -> run.query(query, statusType), what)));
    }
    if (status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
      // Served from history by the server alone: a finished workflow is visible without a worker.
      R result = withinWorkerTimeout(() -> run.getResult(resultType), what);
      S last = result == null ? null : finalStatus.apply(result);
      if (last != null) {
        return Optional.of(new Found.Finished<>(last));
      }
    }
    return Optional.of(
        new Found.Ended<>(describe(status), lastKnown(workflowId, run, query, statusType)));
  }

  /** A worker can replay a closed workflow to answer its query; without one, nothing is known. */
  private <S> S lastKnown(String workflowId, WorkflowStub run, String query, Class<S> type) {
    try {
      return withinWorkerTimeout(() -> run.query(query, type), "reading the last status");
    } catch (RuntimeException e) {
      log.debug("No status for closed {}: {}", workflowId, e.toString());
      return null;
    }
  }

  /** {@code WORKFLOW_EXECUTION_STATUS_TIMED_OUT} reads "timed out". */
  private static String describe(WorkflowExecutionStatus status) {
    return status
        .name()
        .replace("WORKFLOW_EXECUTION_STATUS_", "")
        .toLowerCase(Locale.ROOT)
        .replace('_', ' ');
  }

  /** Calls that need a worker: without one polling, the SDK would keep the request waiting. */
  public <T> T withinWorkerTimeout(Supplier<T> call, String what) {
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

  private List<String> openWorkflowIdsWithoutVisibilityQuery(String type) {
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
                      .setTypeFilter(WorkflowTypeFilter.newBuilder().setName(type))
                      .setNextPageToken(page)
                      .build());
      for (WorkflowExecutionInfo info : response.getExecutionsList()) {
        // Filtered again here: not every server honours the type filter.
        if (type.equals(info.getType().getName()) && ids.size() < MAX_LISTED) {
          ids.add(info.getExecution().getWorkflowId());
        }
      }
      page = response.getNextPageToken();
    } while (!page.isEmpty() && ids.size() < MAX_LISTED);
    return List.copyOf(ids);
  }
}
