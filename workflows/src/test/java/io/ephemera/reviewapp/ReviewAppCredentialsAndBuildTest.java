package io.ephemera.reviewapp;

import static io.ephemera.reviewapp.ReviewAppTesting.BUILD_NAMESPACE;
import static io.ephemera.reviewapp.ReviewAppTesting.NAMESPACE;
import static io.ephemera.reviewapp.ReviewAppTesting.SHA_A;
import static io.ephemera.reviewapp.ReviewAppTesting.SHA_B;
import static io.ephemera.reviewapp.ReviewAppTesting.WORKFLOW_ID;
import static io.ephemera.reviewapp.ReviewAppTesting.awaitReady;
import static io.ephemera.reviewapp.ReviewAppTesting.awaitStatus;
import static io.ephemera.reviewapp.ReviewAppTesting.awaitTrue;
import static io.ephemera.reviewapp.ReviewAppTesting.configMock;
import static io.ephemera.reviewapp.ReviewAppTesting.credentialsMock;
import static io.ephemera.reviewapp.ReviewAppTesting.deploy;
import static io.ephemera.reviewapp.ReviewAppTesting.image;
import static io.ephemera.reviewapp.ReviewAppTesting.settings;
import static io.ephemera.reviewapp.ReviewAppTesting.signalWithStart;
import static io.ephemera.reviewapp.ReviewAppTesting.startEnvironment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.ephemera.activity.build.BuildActivities;
import io.ephemera.activity.build.BuildRequest;
import io.ephemera.activity.build.BuildResult;
import io.ephemera.activity.config.ConfigActivities;
import io.ephemera.activity.config.ReviewSettings;
import io.ephemera.activity.credentials.CredentialActivities;
import io.ephemera.activity.credentials.CredentialPurpose;
import io.ephemera.activity.credentials.CredentialRequest;
import io.ephemera.activity.credentials.Lease;
import io.ephemera.activity.credentials.RevokeRequest;
import io.ephemera.activity.kubernetes.KubernetesActivities;
import io.ephemera.activity.kubernetes.WorkloadSpec;
import io.ephemera.common.FailureType;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowException;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mockito.ArgumentCaptor;
import org.mockito.InOrder;

/**
 * Each deploy's credentials and build: the steps in order and visible in {@code status()}, build
 * credentials revoked right after the build whatever its outcome, the pull credential replaced on
 * each deploy and revoked first at teardown. The leases are what the mocks issue; no secret exists
 * at this level, only lease ids and paths.
 */
@Timeout(30)
class ReviewAppCredentialsAndBuildTest {
  private TestWorkflowEnvironment env;
  private final ControllableKubernetes kubernetes = new ControllableKubernetes();
  private final KubernetesActivities k8s = kubernetes.calls;
  private final CredentialActivities credentials = credentialsMock();
  private final HeldBuilds builds = new HeldBuilds();

  @AfterEach
  void stop() {
    kubernetes.close();
    builds.close();
    if (env != null) {
      env.close();
    }
  }

  private WorkflowClient start(ConfigActivities config) {
    env = startEnvironment(kubernetes, config, credentials, builds);
    return env.getWorkflowClient();
  }

  private WorkflowClient start() {
    return start(configMock());
  }

  @Test
  void aDeployIssuesCredentialsBuildsRevokesThenRollsOutAndStatusShowsEachStep() {
    WorkflowClient client = start();
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "d-1"));

    ReviewAppStatus ready = awaitReady(app, SHA_A);

    assertThat(ready.steps())
        .extracting(DeployStep::name)
        .containsExactly(
            "credentials", "build", "namespace", "pull-credentials", "workload", "rollout");
    assertThat(ready.steps()).allSatisfy(s -> assertThat(s.outcome()).isEqualTo("ok"));
    assertThat(ready.steps()).allSatisfy(s -> assertThat(s.finishedAt()).isNotNull());
    assertThat(ready.step()).isNull();
    // Only the live pull credential is left: the build's was revoked after the build.
    assertThat(ready.leases()).extracting(Lease::kind).containsExactly("registry-pull");

    InOrder order = inOrder(credentials, builds.calls, k8s);
    ArgumentCaptor<CredentialRequest> issued = ArgumentCaptor.forClass(CredentialRequest.class);
    order.verify(credentials).issue(issued.capture());
    ArgumentCaptor<BuildRequest> build = ArgumentCaptor.forClass(BuildRequest.class);
    order.verify(builds.calls).build(build.capture());
    ArgumentCaptor<RevokeRequest> revoked = ArgumentCaptor.forClass(RevokeRequest.class);
    order.verify(credentials).revoke(revoked.capture());
    // The builder keeps a finished build for a retry whose answer was lost; the workflow, which
    // has the outcome now, deletes it (found by the chaos suite).
    order.verify(builds.calls).deleteBuild(build.getValue());
    order.verify(k8s).ensureNamespace(any());
    order.verify(credentials).issue(issued.capture());
    ArgumentCaptor<WorkloadSpec> workload = ArgumentCaptor.forClass(WorkloadSpec.class);
    order.verify(k8s).applyWorkload(workload.capture());
    order.verify(k8s).awaitRollout(any());

    CredentialRequest buildCredentials = issued.getAllValues().get(0);
    assertThat(buildCredentials.purpose()).isEqualTo(CredentialPurpose.BUILD);
    assertThat(buildCredentials.secretNamespace()).isEqualTo(BUILD_NAMESPACE);
    assertThat(buildCredentials.secretName()).isEqualTo(build.getValue().credentialsSecret());
    assertThat(build.getValue().namespace()).isEqualTo(BUILD_NAMESPACE);
    assertThat(build.getValue().destination()).isEqualTo(image(SHA_A));
    assertThat(build.getValue().name()).matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    assertThat(revoked.getValue().leases()).extracting(Lease::kind).containsExactly("build-cache");
    CredentialRequest pull = issued.getAllValues().get(1);
    assertThat(pull.purpose()).isEqualTo(CredentialPurpose.DEPLOY);
    assertThat(pull.secretNamespace()).isEqualTo(NAMESPACE);
    assertThat(workload.getValue().imagePullSecret()).isEqualTo(pull.secretName());
    assertThat(workload.getValue().image()).isEqualTo(image(SHA_A));
    verify(builds.calls, times(1)).deleteBuild(any());
  }

  @Test
  void teardownRevokesTheLiveLeasesBeforeDeletingAnything() {
    WorkflowClient client = start();
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "d-1"));
    Lease pull = awaitReady(app, SHA_A).leases().get(0);

    app.stop("merge request closed");
    ReviewAppStatus last = result(app);

    assertThat(last.phase()).isEqualTo(ReviewAppPhase.STOPPED);
    assertThat(last.leases()).isEmpty();
    InOrder order = inOrder(credentials, k8s);
    order.verify(credentials).revoke(new RevokeRequest(WORKFLOW_ID, List.of(pull)));
    order.verify(k8s).deleteIngress(NAMESPACE);
    order.verify(k8s).deleteNamespace(NAMESPACE);
  }

  @Test
  void aNewDeployReplacesThePullCredentialAndRevokesTheOldOne() {
    WorkflowClient client = start();
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "d-1"));
    Lease first = awaitReady(app, SHA_A).leases().get(0);

    app.deploy(deploy(SHA_B, "d-2"));
    ReviewAppStatus second = awaitReady(app, SHA_B);

    assertThat(second.leases()).hasSize(1).doesNotContain(first);
    verify(credentials).revoke(new RevokeRequest(WORKFLOW_ID, List.of(first)));
  }

  @Test
  void aFailedBuildStillRevokesItsCredentialsAndLeavesTheAppFailed() {
    doThrow(
            FailureType.BuildFailed.failure(
                "kaniko exited 1; last lines:\nerror building image: COPY failed"))
        .when(builds.calls)
        .build(any());
    WorkflowClient client = start();
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "d-1"));

    ReviewAppStatus failed =
        awaitStatus(app, "FAILED", s -> s.phase() == ReviewAppPhase.FAILED && s.step() == null);

    assertThat(failed.lastError()).contains("COPY failed");
    assertThat(failed.steps()).extracting(DeployStep::name).containsExactly("credentials", "build");
    assertThat(failed.steps().get(1).outcome()).startsWith("failed: ").contains("COPY failed");
    awaitTrue("the build lease is revoked", () -> app.status().leases().isEmpty());
    ArgumentCaptor<RevokeRequest> revoked = ArgumentCaptor.forClass(RevokeRequest.class);
    verify(credentials).revoke(revoked.capture());
    assertThat(revoked.getValue().leases()).extracting(Lease::kind).containsExactly("build-cache");
    verify(k8s, never()).ensureNamespace(any());
    // The builder cleans up after a failure itself; deleting again is idempotent, and covers a
    // builder whose worker died before it could.
    verify(builds.calls).deleteBuild(any());
  }

  @Test
  void closingTheMergeRequestMidBuildCancelsItRevokesAndTearsDown() {
    builds.hold(SHA_A);
    WorkflowClient client = start();
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "d-1"));
    awaitTrue("the build of A began", () -> builds.started.contains(SHA_A));
    assertThat(app.status().step()).isEqualTo("build");

    app.stop("merge request closed");
    ReviewAppStatus last = result(app);

    assertThat(last.phase()).isEqualTo(ReviewAppPhase.STOPPED);
    assertThat(last.leases()).isEmpty();
    assertThat(last.steps()).extracting(DeployStep::outcome).containsExactly("ok", "cancelled");
    awaitTrue("the build learned it was cancelled", () -> builds.cancelled.contains(SHA_A));
    ArgumentCaptor<RevokeRequest> revoked = ArgumentCaptor.forClass(RevokeRequest.class);
    verify(credentials).revoke(revoked.capture());
    assertThat(revoked.getValue().leases()).extracting(Lease::kind).containsExactly("build-cache");
    verify(builds.calls).deleteBuild(any());
    verify(k8s).deleteNamespace(NAMESPACE);
  }

  @Test
  void aPushMidBuildCancelsTheStaleBuildAndDeploysOnlyTheNewest() {
    builds.hold(SHA_A);
    WorkflowClient client = start();
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "d-1"));
    awaitTrue("the build of A began", () -> builds.started.contains(SHA_A));

    app.deploy(deploy(SHA_B, "d-2"));
    ReviewAppStatus ready = awaitReady(app, SHA_B);

    assertThat(ready.deployments()).isEqualTo(1);
    assertThat(ready.leases()).extracting(Lease::kind).containsExactly("registry-pull");
    awaitTrue("the build of A learned it was cancelled", () -> builds.cancelled.contains(SHA_A));
    verify(k8s, never()).applyWorkload(ReviewAppTesting.workloadSpec(SHA_A));
    verify(k8s).applyWorkload(ReviewAppTesting.workloadSpec(SHA_B));
  }

  @Test
  void aSkippedBuildShowsWhy() {
    doAnswer(inv -> new BuildResult(inv.<BuildRequest>getArgument(0).destination(), true))
        .when(builds.calls)
        .build(any());
    WorkflowClient client = start();
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "d-1"));

    ReviewAppStatus ready = awaitReady(app, SHA_A);

    assertThat(ready.steps().get(1).outcome())
        .isEqualTo("skipped: the registry has " + image(SHA_A));
  }

  @Test
  void withBuildsOffTheTemplateImageIsDeployedWithoutBuildCredentials() {
    ReviewSettings s = settings();
    ConfigActivities config = configMock();
    when(config.reviewSettings(anyLong()))
        .thenReturn(
            new ReviewSettings(
                s.autoStop(),
                s.autoStopJitter(),
                s.maxExtend(),
                s.hostTemplate(),
                s.domain(),
                s.urlScheme(),
                s.imageTemplate(),
                s.registry(),
                s.namespaceStuckAfter(),
                s.teardownPollInterval(),
                false,
                s.buildNamespace()));
    WorkflowClient client = start(config);
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "d-1"));

    ReviewAppStatus ready = awaitReady(app, SHA_A);

    assertThat(ready.steps())
        .extracting(DeployStep::name)
        .containsExactly("namespace", "pull-credentials", "workload", "rollout");
    verify(builds.calls, never()).build(any());
    ArgumentCaptor<CredentialRequest> issued = ArgumentCaptor.forClass(CredentialRequest.class);
    verify(credentials).issue(issued.capture());
    assertThat(issued.getValue().purpose()).isEqualTo(CredentialPurpose.DEPLOY);
    verify(k8s).applyWorkload(ReviewAppTesting.workloadSpec(SHA_A));
  }

  private static ReviewAppStatus result(ReviewAppWorkflow app) {
    try {
      return WorkflowStub.fromTyped(app).getResult(ReviewAppResult.class).finalStatus();
    } catch (WorkflowException e) {
      throw new AssertionError("the review app failed", e);
    }
  }

  /**
   * Builds for the worker under test: calls go to a Mockito mock, and a held SHA's build waits,
   * heartbeating, until released or cancelled, as the real builder does.
   */
  static final class HeldBuilds implements BuildActivities {
    final BuildActivities calls = ReviewAppTesting.buildMock();
    final List<String> started = new CopyOnWriteArrayList<>();
    final List<String> cancelled = new CopyOnWriteArrayList<>();
    private final Set<String> held = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    void hold(String sha) {
      held.add(sha);
    }

    void close() {
      closed = true;
      held.clear();
    }

    @Override
    public BuildResult build(BuildRequest request) {
      started.add(request.sha());
      ActivityExecutionContext context = Activity.getExecutionContext();
      while (held.contains(request.sha()) && !closed) {
        try {
          context.heartbeat(request.sha());
        } catch (io.temporal.client.ActivityCompletionException e) {
          cancelled.add(request.sha());
          throw e;
        }
        ReviewAppTesting.sleep(Duration.ofMillis(20));
      }
      return calls.build(request);
    }

    @Override
    public void deleteBuild(BuildRequest request) {
      calls.deleteBuild(request);
    }
  }
}
