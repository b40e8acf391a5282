package io.ephemera.activity.reconciler;

import com.google.protobuf.ByteString;
import io.ephemera.activity.gitlab.GitLabListings;
import io.ephemera.common.TemporalCalls;
import io.ephemera.common.WorkflowIds;
import io.ephemera.reviewapp.DeployRequest;
import io.ephemera.reviewapp.ReviewAppPhase;
import io.ephemera.reviewapp.ReviewAppRequest;
import io.ephemera.reviewapp.ReviewAppResult;
import io.ephemera.reviewapp.ReviewAppStarter;
import io.ephemera.reviewapp.ReviewAppStatus;
import io.ephemera.reviewapp.ReviewAppWorkflow;
import io.ephemera.runner.RouteLookup;
import io.ephemera.runner.RunnerRequest;
import io.ephemera.runner.RunnerRoute;
import io.ephemera.runner.RunnerStarter;
import io.ephemera.runner.RunnerWorkflow;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Level-triggered repair: GitLab is the truth, webhooks only hints. Compares what GitLab says (open
 * merge requests, pending jobs) with what Temporal runs, and answers the actions a missed webhook
 * would have caused, then makes them through the webhooks' own entry points ({@link
 * ReviewAppStarter}, {@link RunnerStarter}).
 *
 * <p>For an open merge request:
 *
 * <ul>
 *   <li>no review app ever ran (Temporal does not know the id): deploy it (a missed open);
 *   <li>one runs at another commit, and is not deploying or stopping: deploy the head (a missed
 *       push);
 *   <li>the last one completed because its merge request closed, or at another commit: deploy (a
 *       missed reopen, or a push after it stopped);
 *   <li>the last one stopped for any other reason (idle, stopped or terminated by hand): leave it.
 *       Restarting it would undo the auto-stop and every deliberate stop; the next push brings it
 *       back.
 * </ul>
 *
 * A running review app whose merge request GitLab reports {@code closed} or {@code merged} gets
 * {@code stop}, but only when that project's listing of open merge requests completed. A pending
 * job that the routing table routes gets its runner started; the start's reuse policy (failed,
 * terminated or timed-out runs only) keeps a job that was served from getting a second runner.
 */
public final class Repairs {
  private static final Logger log = LoggerFactory.getLogger(Repairs.class);
  private static final Pattern REVIEW_APP_ID = Pattern.compile("review-app/([0-9]+)/mr-([0-9]+)");
  private static final Pattern RUNNER_ID = Pattern.compile("runner/([0-9]+)/job-[0-9]+");

  /** Temporal calls that may wait on a worker run here, so each can be given up on in time. */
  private static final ExecutorService CALLS = Executors.newVirtualThreadPerTaskExecutor();

  /** GitLab serves at most 100 items a page. */
  private static final int GITLAB_MAX_PAGE = 100;

  /** Deploy key of a repair: one per commit, so repeated passes deploy a commit at most once. */
  static String idempotencyKey(String sha) {
    return "reconciler/" + sha;
  }

  private final GitLabListings gitlab;
  private final WorkflowClient client;
  private final Supplier<RouteLookup> routes;
  private final Supplier<? extends java.util.Collection<Long>> configuredProjects;
  private final boolean allowForks;
  private final Duration temporalTimeout;

  /**
   * @param routes the routing table, or a supplier of null when runners are not configured
   * @param configuredProjects projects to repair besides those of open workflows, asked each pass
   * @param allowForks {@code ephemera.gitlab.allow-forks}: deploy merge requests from forks, as the
   *     webhook does
   */
  public Repairs(
      GitLabListings gitlab,
      WorkflowClient client,
      Supplier<RouteLookup> routes,
      Supplier<? extends java.util.Collection<Long>> configuredProjects,
      boolean allowForks,
      Duration temporalTimeout) {
    this.gitlab = gitlab;
    this.client = client;
    this.routes = routes;
    this.configuredProjects = configuredProjects;
    this.allowForks = allowForks;
    this.temporalTimeout = temporalTimeout;
  }

  /** Compares GitLab with Temporal; answers at most {@code request.maxActions()} actions. */
  public RepairPlan plan(RepairRequest request, Consumer<String> heartbeat) {
    Map<String, String> errors = new TreeMap<>();
    List<RepairAction> actions = new ArrayList<>();
    long openMrs = 0;
    long pendingJobs = 0;
    long skipped = 0;
    int perPage = Math.min(GITLAB_MAX_PAGE, request.pageSize());

    Map<Long, Set<Long>> runningReviewApps = new TreeMap<>();
    Set<Long> projects = new TreeSet<>(configuredProjects.get());
    try {
      for (String id : openWorkflowIds(ReviewAppWorkflow.TYPE)) {
        Matcher m = REVIEW_APP_ID.matcher(id);
        if (m.matches()) {
          long project = Long.parseLong(m.group(1));
          projects.add(project);
          runningReviewApps
              .computeIfAbsent(project, p -> new TreeSet<>())
              .add(Long.parseLong(m.group(2)));
        }
      }
      for (String id : openWorkflowIds(RunnerWorkflow.TYPE)) {
        Matcher m = RUNNER_ID.matcher(id);
        if (m.matches()) {
          projects.add(Long.parseLong(m.group(1)));
        }
      }
    } catch (RuntimeException e) {
      // Without the open review apps no stop can be judged; configured projects are still repaired.
      errors.putIfAbsent(ResourceKinds.SOURCE_TEMPORAL, "listing open workflows: " + message(e));
      runningReviewApps = null;
    }

    RouteLookup routing = routes.get();
    for (long project : projects) {
      if (actions.size() >= request.maxActions()) {
        break;
      }
      heartbeat.accept("project " + project);
      String path;
      try {
        path = gitlab.projectPath(project);
      } catch (RuntimeException e) {
        errors.putIfAbsent(ResourceKinds.SOURCE_GITLAB, message(e));
        continue;
      }
      Set<Long> open = new TreeSet<>();
      boolean complete = true;
      try {
        int page = 1;
        while (page > 0) {
          GitLabListings.Page<GitLabListings.MergeRequest> mrs =
              gitlab.openMergeRequests(project, page, perPage);
          for (GitLabListings.MergeRequest mr : mrs.items()) {
            open.add(mr.iid());
            openMrs++;
            if (mr.fromFork() && !allowForks) {
              skipped++;
              continue;
            }
            Optional<RepairAction> action = reviewApp(project, path, mr);
            if (action.isPresent() && actions.size() < request.maxActions()) {
              actions.add(action.get());
            }
          }
          page = mrs.nextPage();
          heartbeat.accept("project " + project + " merge requests page " + page);
        }
      } catch (TemporalTrouble e) {
        errors.putIfAbsent(ResourceKinds.SOURCE_TEMPORAL, message(e.getCause()));
        complete = false;
      } catch (RuntimeException e) {
        errors.putIfAbsent(ResourceKinds.SOURCE_GITLAB, message(e));
        complete = false;
      }
      if (complete && runningReviewApps != null) {
        for (long iid : runningReviewApps.getOrDefault(project, Set.of())) {
          if (open.contains(iid) || actions.size() >= request.maxActions()) {
            continue;
          }
          try {
            Optional<String> state = gitlab.mergeRequestState(project, iid);
            if (state.isPresent()
                && (state.get().equals("closed") || state.get().equals("merged"))) {
              String reason =
                  state.get().equals("merged")
                      ? ReviewAppStarter.REASON_MERGED
                      : ReviewAppStarter.REASON_CLOSED;
              actions.add(
                  new RepairAction(
                      RepairKind.REVIEW_APP_STOP,
                      project,
                      path,
                      iid,
                      null,
                      null,
                      null,
                      reason,
                      List.of()));
            }
          } catch (RuntimeException e) {
            errors.putIfAbsent(ResourceKinds.SOURCE_GITLAB, message(e));
          }
        }
      }
      if (routing == null) {
        continue;
      }
      try {
        if (!routing.servesProject(project)) {
          continue;
        }
        int page = 1;
        while (page > 0) {
          GitLabListings.Page<GitLabListings.Job> jobs = gitlab.pendingJobs(project, page, perPage);
          for (GitLabListings.Job job : jobs.items()) {
            pendingJobs++;
            if (routing.route(project, job.name(), job.tags()).isEmpty()) {
              skipped++;
              continue;
            }
            if (needsRunner(WorkflowIds.runner(project, job.id()))
                && actions.size() < request.maxActions()) {
              actions.add(
                  new RepairAction(
                      RepairKind.RUNNER_START,
                      project,
                      path,
                      job.id(),
                      job.name(),
                      null,
                      null,
                      "pending job without a runner (missed Job Hook)",
                      job.tags()));
            }
          }
          page = jobs.nextPage();
        }
      } catch (TemporalTrouble e) {
        errors.putIfAbsent(ResourceKinds.SOURCE_TEMPORAL, message(e.getCause()));
      } catch (RuntimeException e) {
        errors.putIfAbsent(ResourceKinds.SOURCE_GITLAB, message(e));
      }
    }
    return new RepairPlan(actions, projects.size(), openMrs, pendingJobs, skipped, errors);
  }

  /** Makes one repair; answers what happened. */
  public String repair(RepairAction action) {
    return switch (action.kind()) {
      case REVIEW_APP_DEPLOY -> {
        String id =
            new ReviewAppStarter(client)
                .deploy(
                    new ReviewAppRequest(
                        action.projectId(), action.projectPath(), action.number(), action.title()),
                    new DeployRequest(action.sha(), idempotencyKey(action.sha()), action.ref()));
        yield "deploy of " + shortSha(action.sha()) + " signalled to " + id;
      }
      case REVIEW_APP_STOP ->
          new ReviewAppStarter(client).stop(action.projectId(), action.number(), action.reason())
              ? "stop signalled"
              : "already gone";
      case RUNNER_START -> {
        RouteLookup routing = routes.get();
        Optional<RunnerRoute> route =
            routing == null
                ? Optional.empty()
                : routing.route(action.projectId(), action.title(), action.tags());
        if (route.isEmpty()) {
          yield "no route any more; nothing started";
        }
        RunnerStarter.Outcome outcome =
            new RunnerStarter(client)
                .start(
                    new RunnerRequest(
                        action.projectId(),
                        action.projectPath(),
                        action.number(),
                        action.title(),
                        action.tags(),
                        route.get()));
        yield outcome == RunnerStarter.Outcome.ALREADY_FINISHED
            ? "the job's runner already finished"
            : "runner started on route " + route.get().name();
      }
    };
  }

  private Optional<RepairAction> reviewApp(
      long project, String path, GitLabListings.MergeRequest mr) {
    if (mr.sha() == null) {
      return Optional.empty();
    }
    String id = WorkflowIds.reviewApp(project, mr.iid());
    WorkflowExecutionDescription description = describe(id);
    String reason;
    if (description == null) {
      reason = "no review app (missed open)";
    } else if (description.getStatus()
        == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
      ReviewAppStatus status = statusOf(description);
      if (status == null
          || mr.sha().equals(status.sha())
          || status.phase() == ReviewAppPhase.PENDING
          || status.phase() == ReviewAppPhase.DEPLOYING
          || status.phase() == ReviewAppPhase.STOPPING) {
        return Optional.empty(); // live, on its way, or unknown now: look again next pass
      }
      reason = "review app at " + shortSha(status.sha()) + " (missed push)";
    } else if (description.getStatus()
        == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
      ReviewAppStatus last = resultOf(description);
      if (last == null) {
        return Optional.empty();
      }
      if (ReviewAppStarter.REASON_CLOSED.equals(last.stopReason())
          || ReviewAppStarter.REASON_MERGED.equals(last.stopReason())) {
        reason = "merge request open again (missed reopen)";
      } else if (last.sha() != null && !mr.sha().equals(last.sha())) {
        reason = "pushed after the review app stopped (missed push)";
      } else {
        return Optional.empty(); // stopped on purpose (idle, by hand): a push brings it back
      }
    } else {
      return Optional.empty(); // terminated, cancelled or failed: someone ended it on purpose
    }
    return Optional.of(
        new RepairAction(
            RepairKind.REVIEW_APP_DEPLOY,
            project,
            path,
            mr.iid(),
            mr.title(),
            mr.sha(),
            mr.sourceBranch(),
            reason,
            List.of()));
  }

  /** Whether a pending job's runner workflow is missing or ended without serving it. */
  private boolean needsRunner(String workflowId) {
    WorkflowExecutionDescription description = describe(workflowId);
    if (description == null) {
      return true;
    }
    WorkflowExecutionStatus status = description.getStatus();
    return status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
        && status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED
        && status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW;
  }

  /** The latest run, or null when Temporal does not know the id. */
  private WorkflowExecutionDescription describe(String workflowId) {
    try {
      return bounded(() -> client.newUntypedWorkflowStub(workflowId).describe());
    } catch (RuntimeException e) {
      if (TemporalCalls.isNotFound(e)) {
        return null;
      }
      throw new TemporalTrouble(e);
    }
  }

  /** The running review app's status, or null when no worker answered in time. */
  private ReviewAppStatus statusOf(WorkflowExecutionDescription d) {
    try {
      return bounded(() -> run(d).query(ReviewAppWorkflow.QUERY_STATUS, ReviewAppStatus.class));
    } catch (RuntimeException e) {
      log.debug("No status from {}: {}", d.getExecution().getWorkflowId(), e.toString());
      return null;
    }
  }

  private ReviewAppStatus resultOf(WorkflowExecutionDescription d) {
    try {
      ReviewAppResult result = bounded(() -> run(d).getResult(ReviewAppResult.class));
      return result == null ? null : result.finalStatus();
    } catch (RuntimeException e) {
      log.debug("No result from {}: {}", d.getExecution().getWorkflowId(), e.toString());
      return null;
    }
  }

  private WorkflowStub run(WorkflowExecutionDescription d) {
    return client.newUntypedWorkflowStub(
        d.getExecution().getWorkflowId(),
        Optional.of(d.getExecution().getRunId()),
        Optional.of(d.getWorkflowType()));
  }

  /** Ids of running workflows of a type, page by page (ids only). */
  private List<String> openWorkflowIds(String type) {
    List<String> ids = new ArrayList<>();
    ByteString page = ByteString.EMPTY;
    do {
      ListOpenWorkflowExecutionsResponse response =
          client
              .getWorkflowServiceStubs()
              .blockingStub()
              .withDeadlineAfter(temporalTimeout.toMillis(), TimeUnit.MILLISECONDS)
              .listOpenWorkflowExecutions(
                  ListOpenWorkflowExecutionsRequest.newBuilder()
                      .setNamespace(client.getOptions().getNamespace())
                      .setMaximumPageSize(GITLAB_MAX_PAGE * 10)
                      .setTypeFilter(WorkflowTypeFilter.newBuilder().setName(type))
                      .setNextPageToken(page)
                      .build());
      for (WorkflowExecutionInfo info : response.getExecutionsList()) {
        if (type.equals(info.getType().getName())) {
          ids.add(info.getExecution().getWorkflowId());
        }
      }
      page = response.getNextPageToken();
    } while (!page.isEmpty());
    return ids;
  }

  /** Calls that may wait for a worker (queries) or a slow server, bounded. */
  private <T> T bounded(Supplier<T> call) {
    CompletableFuture<T> future = CompletableFuture.supplyAsync(call, CALLS);
    try {
      return future.get(temporalTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new IllegalStateException("Temporal did not answer within " + temporalTimeout, e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** A Temporal failure inside the GitLab loop, told apart from GitLab's own. */
  private static final class TemporalTrouble extends RuntimeException {
    TemporalTrouble(RuntimeException cause) {
      super(cause);
    }
  }

  private static String message(Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return OrphanScan.shorten(m);
  }

  private static String shortSha(String sha) {
    return sha == null || sha.length() <= 8 ? sha : sha.substring(0, 8);
  }
}
