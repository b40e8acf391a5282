package io.ephemera.api.webhook;

import io.ephemera.api.Bounded;
import io.ephemera.api.error.ApiException;
import io.ephemera.api.error.ProblemType;
import io.ephemera.api.error.TemporalErrors;
import io.ephemera.common.WorkflowIds;
import io.ephemera.runner.JobEvent;
import io.ephemera.runner.JobTagsLookup;
import io.ephemera.runner.RouteLookup;
import io.ephemera.runner.RunnerRequest;
import io.ephemera.runner.RunnerRoute;
import io.ephemera.runner.RunnerStarter;
import io.ephemera.runner.RunnerWorkflow;
import io.temporal.client.WorkflowClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;

/**
 * Decides what a Job Hook means for single-use runners and records it in Temporal: a pending job
 * starts its {@link RunnerWorkflow}; a job that started or finished is signalled to the workflow
 * that owns the runner it ran on (found through the runner's description, since a runner takes any
 * job matching its tags) and to the job's own workflow. Only start and signal are used, so a slow
 * or absent worker never makes a delivery fail.
 *
 * <p>{@link RouteLookup} and {@link JobTagsLookup} are provided by the application that imports the
 * api (implemented in {@code activities}); without a {@link RouteLookup} runners are not configured
 * and every Job Hook is acknowledged and ignored.
 *
 * <p>A delivery stays within {@code ephemera.gitlab.delivery-timeout} in total. The Jobs API gets
 * at most a quarter of it: GitLab being slow or down must not cost a delivery, so the job is routed
 * without tags instead.
 */
@Component
class JobRouter {
  private static final Logger log = LoggerFactory.getLogger(JobRouter.class);

  static final String NOT_CONFIGURED = "runners not configured";
  static final String NOT_SERVED = "project not served";
  static final String TAGS_FROM_PAYLOAD = "payload";
  static final String TAGS_FROM_JOBS_API = "jobs-api";
  static final String TAGS_FROM_NONE = "none";

  static final String ROUTING_DOWN =
      "The runner routing table could not be read, so no runner was started — redeliver this job"
          + " event from the webhook's Recent events once Ephemera is healthy.";

  private final WorkflowClient client;

  /** The same entry point the reconciler's repairs use, so a hook and a repair start one runner. */
  private final RunnerStarter starter;

  private final ObjectProvider<RouteLookup> routes;
  private final ObjectProvider<JobTagsLookup> jobTags;
  private final Duration deliveryTimeout;

  JobRouter(
      WorkflowClient client,
      ObjectProvider<RouteLookup> routes,
      ObjectProvider<JobTagsLookup> jobTags,
      WebhookProperties properties) {
    this.client = client;
    this.starter = new RunnerStarter(client);
    this.routes = routes;
    this.jobTags = jobTags;
    this.deliveryTimeout = properties.deliveryTimeout();
  }

  /**
   * Routes one Job Hook. Temporal failures propagate: the caller must not answer 2xx for a delivery
   * Temporal did not record.
   *
   * @throws TimeoutException when Temporal did not answer within what is left of the delivery time
   */
  WebhookResponse route(JobHookEvent event) throws TimeoutException {
    long deadline = System.nanoTime() + deliveryTimeout.toNanos();
    RouteLookup routing = routes.getIfAvailable();
    if (routing == null) {
      return WebhookResponse.ignored(NOT_CONFIGURED);
    }
    if (event.isPending()) {
      return start(event.requireStartable(), routing, deadline);
    }
    if (event.isRunning()) {
      return signal(event, RunnerWorkflow.SIGNAL_JOB_STARTED, deadline);
    }
    if (event.isFinished()) {
      return signal(event, RunnerWorkflow.SIGNAL_JOB_FINISHED, deadline);
    }
    // created, preparing, scheduled, canceling...: nothing for a runner to do (yet).
    return WebhookResponse.ignored("status " + event.status());
  }

  private WebhookResponse start(JobHookEvent event, RouteLookup routing, long deadline)
      throws TimeoutException {
    long projectId = event.projectId();
    if (!lookup(deadline, "servesProject", () -> routing.servesProject(projectId))) {
      return WebhookResponse.ignored(NOT_SERVED);
    }
    JobTags tags = tags(event, deadline);
    Optional<RunnerRoute> route =
        lookup(deadline, "route", () -> routing.route(projectId, event.jobName(), tags.tags()));
    if (route == null || route.isEmpty()) {
      return WebhookResponse.ignored(
          "no route for job " + event.jobName() + " with tags " + tags.tags());
    }
    String workflowId = WorkflowIds.runner(projectId, event.jobId());
    RunnerRequest request =
        new RunnerRequest(
            projectId,
            event.projectPath(),
            event.jobId(),
            event.jobName(),
            tags.tags(),
            route.get());
    RunnerStarter.Outcome outcome =
        Bounded.call(
            remaining(deadline), "ephemera-webhook-delivery", () -> starter.start(request));
    if (outcome == RunnerStarter.Outcome.ALREADY_FINISHED) {
      return WebhookResponse.ignored("the runner of job " + event.jobId() + " already finished");
    }
    return WebhookResponse.runner(workflowId, route.get().name(), tags.tags(), tags.from());
  }

  /**
   * Signals the job event to the workflow owning the runner and to the job's own workflow. Either
   * may not exist (a runner Ephemera did not make, a job it does not serve) or may have closed;
   * that is no error, GitLab must not retry it.
   */
  private WebhookResponse signal(JobHookEvent event, String signal, long deadline)
      throws TimeoutException {
    Set<String> targets = new LinkedHashSet<>();
    WorkflowIds.runnerWorkflowFromDescription(event.runnerDescription()).ifPresent(targets::add);
    targets.add(WorkflowIds.runner(event.projectId(), event.jobId()));
    JobEvent jobEvent = event.toJobEvent();
    List<String> signalled =
        Bounded.call(
            remaining(deadline),
            "ephemera-webhook-delivery",
            () -> {
              List<String> done = new ArrayList<>();
              for (String workflowId : targets) {
                try {
                  client.newUntypedWorkflowStub(workflowId).signal(signal, jobEvent);
                  done.add(workflowId);
                } catch (RuntimeException e) {
                  if (!TemporalErrors.isNotFound(e)) {
                    throw e;
                  }
                }
              }
              return done;
            });
    if (signalled.isEmpty()) {
      return WebhookResponse.ignored("no runner workflow for job " + event.jobId());
    }
    return WebhookResponse.signalled(signal, List.copyOf(signalled));
  }

  /** The job's tags and where they came from. */
  record JobTags(List<String> tags, String from) {}

  /**
   * The payload's tags when it has them; else the Jobs API's, within a quarter of the delivery
   * time; else none. Never fails: GitLab's API being down must not turn a delivery into a 5xx.
   */
  private JobTags tags(JobHookEvent event, long deadline) {
    if (event.tags() != null) {
      return new JobTags(event.tags(), TAGS_FROM_PAYLOAD);
    }
    JobTagsLookup lookup = jobTags.getIfAvailable();
    if (lookup == null) {
      return new JobTags(List.of(), TAGS_FROM_NONE);
    }
    Duration budget = min(remaining(deadline), deliveryTimeout.dividedBy(4));
    try {
      List<String> found =
          Bounded.call(
              budget,
              "ephemera-job-tags-lookup",
              () -> lookup.tags(event.projectId(), event.jobId()));
      if (found != null) {
        return new JobTags(JobHookEvent.normalize(found), TAGS_FROM_JOBS_API);
      }
      log.warn(
          "Jobs API gave no tags for project {} job {}; routing without tags",
          event.projectId(),
          event.jobId());
    } catch (TimeoutException | RuntimeException e) {
      // The class only: an HTTP client's message may quote a URL, and tokens have been seen there.
      log.warn(
          "Jobs API did not give the tags of project {} job {} ({}); routing without tags",
          event.projectId(),
          event.jobId(),
          e.getClass().getSimpleName());
      log.debug("Jobs API failure", e);
    }
    return new JobTags(List.of(), TAGS_FROM_NONE);
  }

  /** A routing table call, bounded by what is left of the delivery time. */
  private static <T> T lookup(long deadline, String what, Supplier<T> call) {
    try {
      return Bounded.call(remaining(deadline), "ephemera-route-lookup-" + what, call);
    } catch (TimeoutException | RuntimeException e) {
      // Logged with this cause by the problem handler, like every 5xx.
      IllegalStateException cause =
          new IllegalStateException("RouteLookup." + what + " failed: " + e, e);
      throw new ApiException(ProblemType.ROUTING_UNAVAILABLE, ROUTING_DOWN, cause)
          .withHeader(HttpHeaders.RETRY_AFTER, "10");
    }
  }

  private static Duration remaining(long deadline) {
    return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
