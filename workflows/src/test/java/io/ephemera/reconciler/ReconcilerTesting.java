package io.ephemera.reconciler;

import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import io.ephemera.activity.build.BuildActivities;
import io.ephemera.activity.build.BuildRequest;
import io.ephemera.activity.compute.ComputeActivities;
import io.ephemera.activity.credentials.CredentialActivities;
import io.ephemera.activity.credentials.Lease;
import io.ephemera.activity.gitlab.GitLabRunnerActivities;
import io.ephemera.activity.kubernetes.KubernetesActivities;
import io.ephemera.activity.reconciler.ListRequest;
import io.ephemera.activity.reconciler.Listing;
import io.ephemera.activity.reconciler.Orphan;
import io.ephemera.activity.reconciler.ReconcilerActivities;
import io.ephemera.activity.reconciler.ReconcilerSettings;
import io.ephemera.activity.reconciler.RepairPlan;
import io.ephemera.activity.reconciler.ResourceKinds;
import io.ephemera.common.ActivityDefaults;
import io.ephemera.common.FailureType;
import io.ephemera.common.TaskQueues;
import io.ephemera.common.WorkflowIds;
import io.temporal.activity.ActivityOptions;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.RetryOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkflowImplementationOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The one way reconciler tests build a worker, settings, listings and mocks. */
final class ReconcilerTesting {
  static final Instant LONG_AGO = Instant.parse("2025-01-01T00:00:00Z");
  static final String DEAD_REVIEW_APP = WorkflowIds.reviewApp(42, 7);
  static final String DEAD_RUNNER = WorkflowIds.runner(42, 1001);
  static final String DEAD_EC2_RUNNER = WorkflowIds.runner(42, 1002);
  static final Lease LEASE =
      new Lease("aws/creds/push/abc", "registry-push", "aws/creds/push", null);
  static final BuildRequest BUILD =
      new BuildRequest(
          DEAD_REVIEW_APP,
          42,
          null,
          "a".repeat(40),
          "ephemera-builds",
          "build-review-42-mr-7-aaaaaaaa",
          null,
          "build-review-42-mr-7-aaaaaaaa");

  private ReconcilerTesting() {}

  static ReconcilerSettings settings(boolean enabled, boolean dryRun) {
    return new ReconcilerSettings(
        enabled,
        Duration.ofMinutes(5),
        Duration.ofSeconds(30),
        Duration.ofMinutes(10),
        dryRun,
        500,
        3,
        100,
        Duration.ofMinutes(2),
        ResourceKinds.ALL,
        Map.of());
  }

  /** What the worker supplies in production, with short values; teardown steps retry forever. */
  static WorkflowImplementationOptions options() {
    RetryOptions retry =
        RetryOptions.newBuilder()
            .setInitialInterval(Duration.ofSeconds(1))
            .setMaximumAttempts(3)
            .setDoNotRetry(FailureType.nonRetryableTypes())
            .build();
    ActivityOptions defaults =
        ActivityDefaults.newBuilder()
            .setStartToCloseTimeout(Duration.ofSeconds(30))
            .setRetryOptions(retry)
            .build();
    ActivityOptions forever =
        ActivityOptions.newBuilder(defaults)
            .setRetryOptions(RetryOptions.newBuilder(retry).setMaximumAttempts(0).build())
            .build();
    return WorkflowImplementationOptions.newBuilder()
        .setDefaultActivityOptions(defaults)
        .setActivityOptions(
            ActivityDefaults.perType(
                defaults,
                Map.of(
                    "KubernetesDeleteNamespace", forever,
                    "ComputeTerminate", forever,
                    "GitLabDeleteRunner", forever,
                    "BuildDeleteBuild", forever),
                ReconcilerActivities.class,
                KubernetesActivities.class,
                ComputeActivities.class,
                GitLabRunnerActivities.class,
                CredentialActivities.class,
                BuildActivities.class))
        .build();
  }

  static TestWorkflowEnvironment startEnvironment(Object... activities) {
    TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance();
    Worker worker = env.newWorker(TaskQueues.RECONCILER);
    worker.registerWorkflowImplementationTypes(options(), ReconcilerWorkflowImpl.class);
    worker.registerActivitiesImplementations(activities);
    env.start();
    return env;
  }

  static ReconcilerWorkflow start(WorkflowClient client) {
    ReconcilerWorkflow workflow =
        client.newWorkflowStub(
            ReconcilerWorkflow.class,
            WorkflowOptions.newBuilder()
                .setWorkflowId(ReconcilerWorkflow.ID)
                .setTaskQueue(TaskQueues.RECONCILER)
                .build());
    WorkflowClient.start(workflow::run, ReconcilerRequest.first());
    return workflow;
  }

  /** One pass with {@code settings}, then the reconciler finds itself disabled and ends. */
  static ReconcilerActivities reconcilerMock(ReconcilerSettings settings) {
    ReconcilerActivities reconciler = mock(ReconcilerActivities.class);
    ReconcilerSettings off = settings(false, settings.dryRun());
    when(reconciler.settings()).thenReturn(settings, off);
    when(reconciler.list(any()))
        .thenAnswer(
            i -> i.getArgument(0) == null ? null : empty(((ListRequest) i.getArgument(0)).kind()));
    when(reconciler.planRepairs(any())).thenReturn(noRepairs());
    when(reconciler.repair(any())).thenReturn("done");
    return reconciler;
  }

  static Listing empty(String kind) {
    return new Listing(kind, true, 0, 0, 0, 0, null, 1, 0, List.of(), Map.of());
  }

  static Listing withOrphans(String kind, Orphan... orphans) {
    return new Listing(
        kind,
        true,
        orphans.length + 1L,
        1,
        0,
        orphans.length,
        3600L,
        1,
        orphans.length + 1,
        List.of(orphans),
        Map.of());
  }

  static Listing failed(String kind, String source, String message) {
    return new Listing(kind, false, 0, 0, 0, 0, null, 0, 0, List.of(), Map.of(source, message));
  }

  static RepairPlan noRepairs() {
    return new RepairPlan(List.of(), 0, 0, 0, 0, Map.of());
  }

  static Orphan namespace() {
    return new Orphan(
        ResourceKinds.NAMESPACE,
        "review-42-mr-7-group-shop",
        DEAD_REVIEW_APP,
        42,
        LONG_AGO,
        "terminated",
        null);
  }

  static Orphan pod() {
    return new Orphan(
        ResourceKinds.RUNNER_POD,
        "ephemera-runners/runner-42-job-1001",
        DEAD_RUNNER,
        42,
        LONG_AGO,
        "not found",
        null);
  }

  static Orphan instance() {
    return new Orphan(
        ResourceKinds.INSTANCE, "i-0abc", DEAD_EC2_RUNNER, 42, LONG_AGO, "terminated", null);
  }

  static Orphan gitlabRunner() {
    return new Orphan(
        ResourceKinds.GITLAB_RUNNER, "5001", DEAD_RUNNER, 42, LONG_AGO, "not found", null);
  }

  static Orphan build() {
    return new Orphan(
        ResourceKinds.BUILD,
        "ephemera-builds/job/" + BUILD.name(),
        DEAD_REVIEW_APP,
        42,
        LONG_AGO,
        "terminated",
        null,
        BUILD);
  }

  static Orphan lease() {
    return new Orphan(
        ResourceKinds.LEASE, LEASE.leaseId(), DEAD_REVIEW_APP, 42, LONG_AGO, "completed", LEASE);
  }
}
