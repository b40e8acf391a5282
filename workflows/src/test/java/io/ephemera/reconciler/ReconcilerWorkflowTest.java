package io.ephemera.reconciler;

import static io.ephemera.reconciler.ReconcilerTesting.BUILD;
import static io.ephemera.reconciler.ReconcilerTesting.DEAD_EC2_RUNNER;
import static io.ephemera.reconciler.ReconcilerTesting.DEAD_REVIEW_APP;
import static io.ephemera.reconciler.ReconcilerTesting.DEAD_RUNNER;
import static io.ephemera.reconciler.ReconcilerTesting.LEASE;
import static io.ephemera.reconciler.ReconcilerTesting.build;
import static io.ephemera.reconciler.ReconcilerTesting.failed;
import static io.ephemera.reconciler.ReconcilerTesting.gitlabRunner;
import static io.ephemera.reconciler.ReconcilerTesting.instance;
import static io.ephemera.reconciler.ReconcilerTesting.lease;
import static io.ephemera.reconciler.ReconcilerTesting.namespace;
import static io.ephemera.reconciler.ReconcilerTesting.pod;
import static io.ephemera.reconciler.ReconcilerTesting.reconcilerMock;
import static io.ephemera.reconciler.ReconcilerTesting.settings;
import static io.ephemera.reconciler.ReconcilerTesting.start;
import static io.ephemera.reconciler.ReconcilerTesting.startEnvironment;
import static io.ephemera.reconciler.ReconcilerTesting.withOrphans;
import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.Mockito.atLeast;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.ephemera.activity.build.BuildActivities;
import io.ephemera.activity.compute.ComputeActivities;
import io.ephemera.activity.compute.TerminateRequest;
import io.ephemera.activity.credentials.CredentialActivities;
import io.ephemera.activity.credentials.RevokeRequest;
import io.ephemera.activity.gitlab.DeleteRunnerRequest;
import io.ephemera.activity.gitlab.GitLabRunnerActivities;
import io.ephemera.activity.kubernetes.KubernetesActivities;
import io.ephemera.activity.reconciler.KindReport;
import io.ephemera.activity.reconciler.ListRequest;
import io.ephemera.activity.reconciler.Orphan;
import io.ephemera.activity.reconciler.PassReport;
import io.ephemera.activity.reconciler.ReconcilerActivities;
import io.ephemera.activity.reconciler.RepairAction;
import io.ephemera.activity.reconciler.RepairKind;
import io.ephemera.activity.reconciler.RepairPlan;
import io.ephemera.activity.reconciler.ResourceKinds;
import io.ephemera.runner.RunnerType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mockito.ArgumentCaptor;

class ReconcilerWorkflowTest {
  private final KubernetesActivities k8s = mock(KubernetesActivities.class);
  private final ComputeActivities compute = mock(ComputeActivities.class);
  private final GitLabRunnerActivities gitlab = mock(GitLabRunnerActivities.class);
  private final CredentialActivities credentials = mock(CredentialActivities.class);
  private final BuildActivities builds = mock(BuildActivities.class);

  private static final RepairAction DEPLOY =
      new RepairAction(
          RepairKind.REVIEW_APP_DEPLOY,
          42,
          "group/shop",
          8,
          "Add cart",
          "a".repeat(40),
          "feature/cart",
          "no review app",
          List.of());
  private static final RepairAction STOP =
      new RepairAction(
          RepairKind.REVIEW_APP_STOP,
          42,
          "group/shop",
          7,
          null,
          null,
          null,
          "merge request merged",
          List.of());

  /** Every kind has one orphan; the plan has a deploy and a stop. */
  private ReconcilerActivities everyKindHasAnOrphan(boolean dryRun) {
    ReconcilerActivities reconciler = reconcilerMock(settings(true, dryRun));
    when(reconciler.list(any()))
        .thenAnswer(
            i ->
                i.getArgument(0) == null
                    ? null
                    : switch (((ListRequest) i.getArgument(0)).kind()) {
                      case ResourceKinds.NAMESPACE ->
                          withOrphans(ResourceKinds.NAMESPACE, namespace());
                      case ResourceKinds.RUNNER_POD -> withOrphans(ResourceKinds.RUNNER_POD, pod());
                      case ResourceKinds.INSTANCE ->
                          withOrphans(ResourceKinds.INSTANCE, instance());
                      case ResourceKinds.GITLAB_RUNNER ->
                          withOrphans(ResourceKinds.GITLAB_RUNNER, gitlabRunner());
                      case ResourceKinds.LEASE -> withOrphans(ResourceKinds.LEASE, lease());
                      case ResourceKinds.BUILD -> withOrphans(ResourceKinds.BUILD, build());
                      default -> throw new IllegalArgumentException("no such kind");
                    });
    when(reconciler.planRepairs(any()))
        .thenReturn(new RepairPlan(List.of(DEPLOY, STOP), 1, 1, 0, 0, Map.of()));
    return reconciler;
  }

  private PassReport runOnePass(ReconcilerActivities reconciler) {
    try (TestWorkflowEnvironment env =
        startEnvironment(reconciler, k8s, compute, gitlab, credentials, builds)) {
      WorkflowClient client = env.getWorkflowClient();
      ReconcilerWorkflow workflow = start(client);
      WorkflowStub.fromTyped(workflow).getResult(Void.class);
      ArgumentCaptor<PassReport> report = ArgumentCaptor.forClass(PassReport.class);
      verify(reconciler).recordPass(report.capture());
      return report.getValue();
    }
  }

  @Test
  void aPassReapsEveryKindThroughTheTeardownActivitiesAndRepairs() {
    ReconcilerActivities reconciler = everyKindHasAnOrphan(false);

    PassReport report = runOnePass(reconciler);

    verify(k8s).deleteNamespace("review-42-mr-7-group-shop");
    verify(compute).terminate(new TerminateRequest(DEAD_RUNNER, RunnerType.KUBERNETES));
    verify(compute).terminate(new TerminateRequest(DEAD_EC2_RUNNER, RunnerType.EC2));
    verify(gitlab).deleteRunner(new DeleteRunnerRequest(42, DEAD_RUNNER));
    verify(credentials).revoke(new RevokeRequest(DEAD_REVIEW_APP, List.of(LEASE)));
    verify(builds).deleteBuild(BUILD);
    verify(reconciler).repair(DEPLOY);
    verify(reconciler).repair(STOP);
    assertThat(report.pass()).isEqualTo(1);
    assertThat(report.dryRun()).isFalse();
    assertThat(report.errors()).isEmpty();
    assertThat(report.kinds()).hasSize(6);
    assertThat(report.kinds().values())
        .allSatisfy(
            k -> {
              assertThat(k.found()).isEqualTo(1);
              assertThat(k.reaped()).isEqualTo(1);
              assertThat(k.blockedBy()).isNull();
            });
    assertThat(report.repairs()).containsEntry("review-app-deploy", 1L);
    assertThat(report.repairs()).containsEntry("review-app-stop", 1L);
  }

  @Test
  void aDryRunDeletesNothingAndRepairsNothingButReportsIt() {
    ReconcilerActivities reconciler = everyKindHasAnOrphan(true);

    PassReport report = runOnePass(reconciler);

    verify(k8s, never()).deleteNamespace(anyString());
    verify(compute, never()).terminate(any());
    verify(gitlab, never()).deleteRunner(any());
    verify(credentials, never()).revoke(any());
    verify(builds, never()).deleteBuild(any());
    verify(reconciler, never()).repair(any());
    assertThat(report.dryRun()).isTrue();
    assertThat(report.kinds().values())
        .allSatisfy(
            k -> {
              assertThat(k.found()).isEqualTo(1);
              assertThat(k.reaped()).isZero();
            });
    assertThat(report.repairs())
        .containsEntry("review-app-deploy", 1L)
        .containsEntry("review-app-stop", 1L);
  }

  @Test
  void aFailingSourceBlocksOnlyTheKindsThatDependOnIt() {
    ReconcilerActivities reconciler = everyKindHasAnOrphan(false);
    when(reconciler.list(argThat(r -> r != null && r.kind().equals(ResourceKinds.NAMESPACE))))
        .thenReturn(failed(ResourceKinds.NAMESPACE, "kubernetes", "HTTP 500 listing namespaces"));

    PassReport report = runOnePass(reconciler);

    // The namespace listing failed, so the cluster is suspect: no runner pod is deleted either.
    verify(k8s, never()).deleteNamespace(anyString());
    verify(compute, never()).terminate(new TerminateRequest(DEAD_RUNNER, RunnerType.KUBERNETES));
    verify(builds, never()).deleteBuild(any());
    verify(compute).terminate(new TerminateRequest(DEAD_EC2_RUNNER, RunnerType.EC2));
    verify(gitlab).deleteRunner(any());
    verify(credentials).revoke(any());
    verify(reconciler).repair(STOP);
    assertThat(report.errors()).containsOnlyKeys("kubernetes");
    assertThat(report.kinds().get(ResourceKinds.NAMESPACE).blockedBy()).isEqualTo("kubernetes");
    assertThat(report.kinds().get(ResourceKinds.RUNNER_POD))
        .extracting(KindReport::found, KindReport::reaped, KindReport::blockedBy)
        .containsExactly(1L, 0L, "kubernetes");
    assertThat(report.kinds().get(ResourceKinds.BUILD).blockedBy()).isEqualTo("kubernetes");
    assertThat(report.kinds().get(ResourceKinds.INSTANCE).reaped()).isEqualTo(1);
  }

  @Test
  void aFailingBuildListingBlocksEveryClusterDeletionAndNothingElse() {
    ReconcilerActivities reconciler = everyKindHasAnOrphan(false);
    when(reconciler.list(argThat(r -> r != null && r.kind().equals(ResourceKinds.BUILD))))
        .thenReturn(failed(ResourceKinds.BUILD, "kubernetes", "HTTP 403 listing jobs"));

    PassReport report = runOnePass(reconciler);

    verify(builds, never()).deleteBuild(any());
    verify(k8s, never()).deleteNamespace(anyString());
    verify(compute, never()).terminate(new TerminateRequest(DEAD_RUNNER, RunnerType.KUBERNETES));
    verify(credentials).revoke(new RevokeRequest(DEAD_REVIEW_APP, List.of(LEASE)));
    verify(compute).terminate(new TerminateRequest(DEAD_EC2_RUNNER, RunnerType.EC2));
    assertThat(report.kinds().get(ResourceKinds.BUILD))
        .extracting(KindReport::found, KindReport::reaped, KindReport::blockedBy)
        .containsExactly(0L, 0L, "kubernetes");
    assertThat(report.errors()).containsOnlyKeys("kubernetes");
  }

  @Test
  void aBuildOrphanWithoutItsBuildIsCountedAsFailedNotDeleted() {
    ReconcilerActivities reconciler = everyKindHasAnOrphan(false);
    Orphan nameless =
        new Orphan(
            ResourceKinds.BUILD,
            "ephemera-builds/job/x",
            DEAD_REVIEW_APP,
            42,
            ReconcilerTesting.LONG_AGO,
            "terminated",
            null,
            null);
    when(reconciler.list(argThat(r -> r != null && r.kind().equals(ResourceKinds.BUILD))))
        .thenReturn(withOrphans(ResourceKinds.BUILD, nameless, build()));

    PassReport report = runOnePass(reconciler);

    verify(builds).deleteBuild(BUILD);
    assertThat(report.kinds().get(ResourceKinds.BUILD))
        .extracting(KindReport::found, KindReport::reaped, KindReport::failed)
        .containsExactly(2L, 1L, 1L);
  }

  @Test
  void aGitLabFailureBlocksRunnerDeletionsAndStopsButNotTheOtherKinds() {
    ReconcilerActivities reconciler = everyKindHasAnOrphan(false);
    when(reconciler.planRepairs(any()))
        .thenReturn(
            new RepairPlan(List.of(DEPLOY, STOP), 1, 1, 0, 0, Map.of("gitlab", "HTTP 502")));

    PassReport report = runOnePass(reconciler);

    verify(gitlab, never()).deleteRunner(any());
    verify(reconciler, never()).repair(STOP);
    verify(reconciler).repair(DEPLOY); // starting what is missing is never destructive
    verify(k8s).deleteNamespace(anyString());
    assertThat(report.kinds().get(ResourceKinds.GITLAB_RUNNER).blockedBy()).isEqualTo("gitlab");
    assertThat(report.errors()).containsOnlyKeys("gitlab");
  }

  @Test
  void temporalFailingBlocksEveryDeletion() {
    ReconcilerActivities reconciler = everyKindHasAnOrphan(false);
    when(reconciler.list(argThat(r -> r != null && r.kind().equals(ResourceKinds.INSTANCE))))
        .thenReturn(failed(ResourceKinds.INSTANCE, "temporal", "UNAVAILABLE"));

    PassReport report = runOnePass(reconciler);

    verify(k8s, never()).deleteNamespace(anyString());
    verify(compute, never()).terminate(any());
    verify(gitlab, never()).deleteRunner(any());
    verify(credentials, never()).revoke(any());
    verify(builds, never()).deleteBuild(any());
    verify(reconciler, never()).repair(STOP);
    assertThat(report.kinds().values()).allSatisfy(k -> assertThat(k.blockedBy()).isIn("temporal"));
  }

  @Test
  void aListingThatFailsAsAnActivityCountsAsItsSourceFailing() {
    ReconcilerActivities reconciler = everyKindHasAnOrphan(false);
    when(reconciler.list(argThat(r -> r != null && r.kind().equals(ResourceKinds.INSTANCE))))
        .thenThrow(ApplicationFailure.newNonRetryableFailure("boom", "Bug"));

    PassReport report = runOnePass(reconciler);

    verify(compute, never()).terminate(new TerminateRequest(DEAD_EC2_RUNNER, RunnerType.EC2));
    verify(k8s).deleteNamespace(anyString());
    assertThat(report.errors()).containsOnlyKeys("ec2");
    assertThat(report.kinds().get(ResourceKinds.INSTANCE).blockedBy()).isEqualTo("ec2");
  }

  @Test
  void aDeletionThatNeverSucceedsIsGivenUpAndTheLoopGoesOn() {
    ReconcilerActivities reconciler = everyKindHasAnOrphan(false);
    doThrow(ApplicationFailure.newFailure("namespace is stuck", "KubernetesUnavailable"))
        .when(k8s)
        .deleteNamespace(anyString());

    PassReport report = runOnePass(reconciler);

    verify(k8s, atLeast(2)).deleteNamespace(anyString());
    assertThat(report.kinds().get(ResourceKinds.NAMESPACE))
        .extracting(KindReport::reaped, KindReport::failed)
        .containsExactly(0L, 1L);
    assertThat(report.kinds().get(ResourceKinds.INSTANCE).reaped()).isEqualTo(1);
    assertThat(report.errors()).containsKey("kubernetes");
  }
}
