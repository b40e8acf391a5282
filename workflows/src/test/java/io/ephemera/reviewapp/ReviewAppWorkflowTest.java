package io.ephemera.reviewapp;

import static io.ephemera.reviewapp.ReviewAppTesting.AUTO_STOP;
import static io.ephemera.reviewapp.ReviewAppTesting.JITTER;
import static io.ephemera.reviewapp.ReviewAppTesting.MR_IID;
import static io.ephemera.reviewapp.ReviewAppTesting.NAMESPACE;
import static io.ephemera.reviewapp.ReviewAppTesting.PROJECT_ID;
import static io.ephemera.reviewapp.ReviewAppTesting.PROJECT_PATH;
import static io.ephemera.reviewapp.ReviewAppTesting.SHA_A;
import static io.ephemera.reviewapp.ReviewAppTesting.SHA_B;
import static io.ephemera.reviewapp.ReviewAppTesting.SHA_C;
import static io.ephemera.reviewapp.ReviewAppTesting.URL;
import static io.ephemera.reviewapp.ReviewAppTesting.WORKFLOW_ID;
import static io.ephemera.reviewapp.ReviewAppTesting.awaitReady;
import static io.ephemera.reviewapp.ReviewAppTesting.awaitStatus;
import static io.ephemera.reviewapp.ReviewAppTesting.awaitTrue;
import static io.ephemera.reviewapp.ReviewAppTesting.configMock;
import static io.ephemera.reviewapp.ReviewAppTesting.deploy;
import static io.ephemera.reviewapp.ReviewAppTesting.namespaceSpec;
import static io.ephemera.reviewapp.ReviewAppTesting.rollout;
import static io.ephemera.reviewapp.ReviewAppTesting.signalWithStart;
import static io.ephemera.reviewapp.ReviewAppTesting.startEnvironment;
import static io.ephemera.reviewapp.ReviewAppTesting.workflowOptions;
import static io.ephemera.reviewapp.ReviewAppTesting.workloadSpec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.ephemera.activity.config.ConfigActivities;
import io.ephemera.activity.gitlab.GitLabFeedbackActivities;
import io.ephemera.activity.kubernetes.KubernetesActivities;
import io.ephemera.activity.kubernetes.NamespaceState;
import io.ephemera.activity.kubernetes.RolloutResult;
import io.ephemera.activity.kubernetes.WorkloadSpec;
import io.ephemera.common.FailureType;
import io.ephemera.common.Names;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.mockito.ArgumentCaptor;
import org.mockito.InOrder;

/**
 * The review-app workflow against mocked Kubernetes and configuration, on the time-skipping test
 * server: a three-day timer takes milliseconds. Time stands still (runs at wall-clock pace) while a
 * test polls {@code status()}; it skips while the test waits for the result or calls {@code
 * env.sleep}.
 */
@Timeout(30)
class ReviewAppWorkflowTest {
  private TestWorkflowEnvironment env;
  private WorkflowClient client;
  private ControllableKubernetes kubernetes;
  private KubernetesActivities k8s;
  private ConfigActivities config;

  private GitLabFeedbackActivities gitlab;

  @BeforeEach
  void startWorker() {
    kubernetes = new ControllableKubernetes();
    k8s = kubernetes.calls;
    config = configMock();
    gitlab = ReviewAppTesting.feedbackMock();
    env = startEnvironment(kubernetes, config, gitlab);
    client = env.getWorkflowClient();
  }

  @AfterEach
  void stopWorker() {
    kubernetes.close();
    env.close();
  }

  @Test
  void openingTheMergeRequestDeploysAndBecomesReady() {
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));

    ReviewAppStatus status = awaitReady(app, SHA_A);

    assertThat(status.url()).isEqualTo("https://mr-7.review.example.test");
    assertThat(status.sha()).isEqualTo(SHA_A);
    assertThat(status.deployments()).isEqualTo(1);
    assertThat(status.namespace())
        .isEqualTo(Names.reviewNamespace(PROJECT_ID, PROJECT_PATH, MR_IID))
        .isEqualTo("review-42-mr-7-group-shop");
    assertThat(status.projectId()).isEqualTo(PROJECT_ID);
    assertThat(status.mrIid()).isEqualTo(MR_IID);
    assertThat(status.lastError()).isNull();
    assertThat(status.stopReason()).isNull();
    assertThat(status.resources())
        .contains("Namespace//" + NAMESPACE, "Ingress/" + NAMESPACE + "/app");
    Instant now = now();
    assertThat(status.autoStopAt())
        .isAfter(now.plus(AUTO_STOP).minusSeconds(30))
        .isBefore(now.plus(AUTO_STOP).plus(JITTER));

    InOrder order = inOrder(k8s);
    order.verify(k8s).ensureNamespace(namespaceSpec());
    ArgumentCaptor<WorkloadSpec> workload = ArgumentCaptor.forClass(WorkloadSpec.class);
    order.verify(k8s).applyWorkload(workload.capture());
    order.verify(k8s).awaitRollout(rollout(SHA_A));
    assertThat(workload.getValue().image()).isEqualTo("registry.example.test/group/shop:" + SHA_A);
    assertThat(workload.getValue().host()).isEqualTo("mr-7.review.example.test");
    assertThat(workload.getValue().workflowId()).isEqualTo("review-app/42/mr-7");
    assertThat(workload.getValue().namespace()).isEqualTo(NAMESPACE);
    verify(config).reviewSettings(PROJECT_ID);
    verify(k8s, never()).deleteNamespace(anyString());
  }

  @Test
  void aPushDuringADeploySupersedesItAndOnlyTheNewestShaGoesLive() {
    kubernetes.hold(SHA_A);
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    awaitTrue("the rollout of A began", () -> kubernetes.rolloutsStarted.contains(SHA_A));
    assertThat(app.status().phase()).isEqualTo(ReviewAppPhase.DEPLOYING);

    app.deploy(deploy(SHA_B, "delivery-2"));

    ReviewAppStatus status = awaitReady(app, SHA_B);
    assertThat(status.deployments()).isEqualTo(1);
    assertThat(status.lastError()).isNull();
    awaitTrue(
        "the rollout of A learned it was cancelled",
        () -> kubernetes.rolloutsCancelled.contains(SHA_A));
    verify(k8s).applyWorkload(workloadSpec(SHA_A));
    verify(k8s).applyWorkload(workloadSpec(SHA_B));
    verify(k8s).awaitRollout(rollout(SHA_B));
    verify(k8s, never()).awaitRollout(rollout(SHA_A)); // A's rollout never answered
    assertThat(kubernetes.rolloutsStarted).containsExactly(SHA_A, SHA_B);
    assertThat(app.status().sha()).isEqualTo(SHA_B);
  }

  @Test
  void theAutoStopTimerTearsTheEnvironmentDownAfterThreeDays() {
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    Instant autoStopAt = awaitReady(app, SHA_A).autoStopAt();

    env.sleep(AUTO_STOP.minusMinutes(1));
    assertThat(app.status().phase()).isEqualTo(ReviewAppPhase.READY);

    ReviewAppStatus last = result(app);

    assertThat(now()).isAfterOrEqualTo(autoStopAt);
    assertThat(last.phase()).isEqualTo(ReviewAppPhase.STOPPED);
    assertThat(last.stopReason()).contains("idle").contains("3 days");
    assertThat(last.url()).isNull();
    assertThat(last.resources()).isEmpty();
    assertThat(last.sha()).isEqualTo(SHA_A);
    InOrder order = inOrder(k8s);
    order.verify(k8s).deleteIngress(NAMESPACE);
    order.verify(k8s).deleteWorkloads(NAMESPACE);
    order.verify(k8s).deleteNamespace(NAMESPACE);
    order.verify(k8s).awaitNamespaceGone(NAMESPACE);
    order.verifyNoMoreInteractions();
  }

  @Test
  void extendPushesTheTimer() {
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    awaitReady(app, SHA_A);

    Instant before = now();
    ExtendResult extended = app.extend(new ExtendRequest("PT96H"));
    Instant after = now();

    assertThat(extended.autoStopAt())
        .isBetween(before.plus(Duration.ofHours(96)), after.plus(Duration.ofHours(96)));
    assertThat(app.status().autoStopAt()).isEqualTo(extended.autoStopAt());

    env.sleep(AUTO_STOP.plus(JITTER).plusMinutes(1));
    assertThat(app.status().phase()).isEqualTo(ReviewAppPhase.READY);

    ReviewAppStatus last = result(app);
    assertThat(now()).isAfterOrEqualTo(extended.autoStopAt());
    assertThat(last.phase()).isEqualTo(ReviewAppPhase.STOPPED);
    assertThat(last.stopReason()).contains("idle");
  }

  @Test
  void anExtendShorterThanWhatIsLeftKeepsTheLaterTime() {
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    ReviewAppStatus ready = awaitReady(app, SHA_A);

    ExtendResult extended = app.extend(new ExtendRequest("PT48H"));

    assertThat(extended.autoStopAt()).isEqualTo(ready.autoStopAt());
    assertThat(app.status().autoStopAt()).isEqualTo(ready.autoStopAt());
  }

  @Test
  void aGitLabOutageDuringFeedbackLeavesTheAppReadyAndIsRetried() {
    when(gitlab.upsertEnvironment(any()))
        .thenThrow(
            ApplicationFailure.newNonRetryableFailure("502 Bad Gateway", "GitLabUnavailable"))
        .thenReturn(11L);
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));

    ReviewAppStatus ready = awaitReady(app, SHA_A);
    assertThat(ready.url()).isEqualTo(URL);
    ReviewAppStatus noted = awaitStatus(app, "feedback error noted", s -> s.lastError() != null);
    assertThat(noted.phase()).isEqualTo(ReviewAppPhase.READY);
    assertThat(noted.lastError()).contains("GitLab feedback").contains("502 Bad Gateway");
    verify(k8s, never()).deleteNamespace(anyString());

    env.sleep(Duration.ofMinutes(2));
    ReviewAppStatus retried = awaitStatus(app, "feedback retried", s -> s.lastError() == null);
    assertThat(retried.phase()).isEqualTo(ReviewAppPhase.READY);
    verify(gitlab, times(2)).upsertEnvironment(any());
    verify(gitlab, times(2)).upsertNote(any());
  }

  @Test
  void aDeployTellsGitLabOnceAndTeardownStopsTheEnvironment() {
    ReviewAppWorkflow app =
        signalWithStart(client, new DeployRequest(SHA_A, "delivery-1", "feature"));
    awaitReady(app, SHA_A);
    app.stop("merge request merged");
    result(app);

    InOrder order = inOrder(gitlab);
    order.verify(gitlab).setCommitStatus(argThat(c -> c.state().equals("pending")));
    order.verify(gitlab).recordDeployment(argThat(d -> d.status().equals("running")));
    order.verify(gitlab).upsertEnvironment(argThat(e -> URL.equals(e.externalUrl())));
    order.verify(gitlab).recordDeployment(argThat(d -> d.status().equals("success")));
    order.verify(gitlab).upsertNote(argThat(n -> n.body().contains(URL)));
    order.verify(gitlab).setCommitStatus(argThat(c -> c.state().equals("success")));
    order.verify(gitlab).stopEnvironment(argThat(e -> e.name().equals("review/mr-7")));
    order.verify(gitlab).upsertNote(argThat(n -> n.body().contains("merge request merged")));
  }

  @Test
  void aPushAfterAnExtendDoesNotShortenIt() {
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    awaitReady(app, SHA_A);
    ExtendResult extended = app.extend(new ExtendRequest("P6D"));

    app.deploy(deploy(SHA_B, "delivery-2"));
    ReviewAppStatus status = awaitReady(app, SHA_B);

    assertThat(status.autoStopAt()).isEqualTo(extended.autoStopAt());
  }

  @Test
  void aReopenDuringTeardownStartsAFreshEnvironmentAfterIt() {
    when(k8s.awaitNamespaceGone(NAMESPACE))
        .thenReturn(new NamespaceState(false, null), NamespaceState.goneNow());
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    awaitReady(app, SHA_A);
    app.stop("merge request closed");
    awaitStatus(app, "STOPPING", s -> s.phase() == ReviewAppPhase.STOPPING);

    // What the webhook does for a reopen: signal-with-start reaches the run still tearing down.
    signalWithStart(client, deploy(SHA_B, "delivery-reopen"));
    env.sleep(Duration.ofMinutes(1));

    ReviewAppWorkflow latest = client.newWorkflowStub(ReviewAppWorkflow.class, WORKFLOW_ID);
    ReviewAppStatus status = awaitReady(latest, SHA_B);
    assertThat(status.deployments()).isEqualTo(1);
    assertThat(status.stopReason()).isNull();
    InOrder order = inOrder(k8s);
    order.verify(k8s).applyWorkload(workloadSpec(SHA_A));
    order.verify(k8s).awaitNamespaceGone(NAMESPACE);
    order.verify(k8s).applyWorkload(workloadSpec(SHA_B));
  }

  @Test
  void extendWithABadDurationIsRejected() {
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    ReviewAppStatus ready = awaitReady(app, SHA_A);

    for (String bad : List.of("banana", "-PT1H", "PT0S", "", "P8D")) {
      assertThatThrownBy(() -> app.extend(new ExtendRequest(bad)))
          .as("extend(%s)", bad)
          .isInstanceOf(WorkflowUpdateException.class)
          .rootCause()
          .hasMessageMatching("(?s).*(ISO-8601|positive|required|longer than the maximum).*");
    }
    assertThatThrownBy(() -> app.extend(new ExtendRequest("P8D")))
        .rootCause()
        .hasMessageContaining("longer than the maximum PT168H");

    ReviewAppStatus after = app.status();
    assertThat(after.autoStopAt()).isEqualTo(ready.autoStopAt());
    assertThat(after.phase()).isEqualTo(ReviewAppPhase.READY);
    assertThat(after.lastError()).isNull();
    // Rejected updates leave no trace in history.
    assertThat(events(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)).isEmpty();
    // The maximum itself is accepted.
    assertThat(app.extend(new ExtendRequest("P7D")).autoStopAt()).isAfter(ready.autoStopAt());
  }

  @Test
  void stopDuringADeployStillTearsDown() {
    kubernetes.hold(SHA_A);
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    awaitTrue("the rollout of A began", () -> kubernetes.rolloutsStarted.contains(SHA_A));

    app.stop("merge request closed");

    ReviewAppStatus last = result(app);
    assertThat(last.phase()).isEqualTo(ReviewAppPhase.STOPPED);
    assertThat(last.stopReason()).isEqualTo("merge request closed");
    assertThat(last.deployments()).isZero();
    assertThat(last.url()).isNull();
    InOrder order = inOrder(k8s);
    order.verify(k8s).deleteIngress(NAMESPACE);
    order.verify(k8s).deleteWorkloads(NAMESPACE);
    order.verify(k8s).deleteNamespace(NAMESPACE);
    order.verify(k8s).awaitNamespaceGone(NAMESPACE);
    awaitTrue(
        "the abandoned rollout learned it is no longer wanted",
        () -> kubernetes.rolloutsCancelled.contains(SHA_A));
  }

  @Test
  void cancellingTheWorkflowStillTearsDown() {
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    awaitReady(app, SHA_A);
    // Cancel an idle app: once READY's GitLab feedback is done (the last call is the status).
    verify(gitlab, timeout(10_000)).setCommitStatus(argThat(c -> "success".equals(c.state())));

    WorkflowStub.fromTyped(app).cancel();

    // The SDK closes a cancel-requested workflow as CANCELED even when it returns normally...
    assertThatThrownBy(() -> result(app))
        .isInstanceOf(WorkflowFailedException.class)
        .hasCauseInstanceOf(CanceledFailure.class);
    // ...but only after the teardown, which ran in its detached scope.
    ReviewAppStatus last = app.status();
    assertThat(last.phase()).isEqualTo(ReviewAppPhase.STOPPED);
    assertThat(last.stopReason()).isEqualTo("workflow cancelled");
    verify(k8s).deleteNamespace(NAMESPACE);
    verify(k8s).awaitNamespaceGone(NAMESPACE);
  }

  @Test
  void failingActivitiesAreRetried() {
    doThrow(FailureType.KubernetesUnavailable.failure("503 from the API server"))
        .doThrow(FailureType.KubernetesUnavailable.failure("503 from the API server"))
        .doReturn(List.of("Namespace//" + NAMESPACE))
        .when(k8s)
        .ensureNamespace(any());

    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    env.sleep(Duration.ofSeconds(10)); // skips the retry backoff (1 s, then 2 s)

    ReviewAppStatus status = awaitReady(app, SHA_A);
    assertThat(status.deployments()).isEqualTo(1);
    assertThat(status.lastError()).isNull();
    verify(k8s, times(3)).ensureNamespace(namespaceSpec());
    verify(k8s).applyWorkload(workloadSpec(SHA_A));
  }

  @Test
  void aNonRetryableFailureLeavesTheAppFailedUntilTheNextPush() {
    doThrow(FailureType.RolloutFailed.failure("ErrImagePull: manifest unknown"))
        .when(k8s)
        .awaitRollout(rollout(SHA_A));

    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));

    ReviewAppStatus failed = awaitStatus(app, "FAILED", s -> s.phase() == ReviewAppPhase.FAILED);
    assertThat(failed.lastError())
        .contains("ErrImagePull: manifest unknown")
        .contains("RolloutFailed")
        .contains("aaaaaaaa");
    assertThat(failed.deployments()).isZero();
    assertThat(failed.url()).isNull();
    verify(k8s, times(1)).awaitRollout(rollout(SHA_A)); // non-retryable: tried once

    app.deploy(deploy(SHA_B, "delivery-2"));

    ReviewAppStatus ready = awaitReady(app, SHA_B);
    assertThat(ready.deployments()).isEqualTo(1);
    assertThat(ready.lastError()).isNull();
    assertThat(ready.url()).isEqualTo(URL);
    verify(k8s, never()).deleteIngress(anyString());
    verify(k8s, never()).deleteWorkloads(anyString());
    verify(k8s, never()).deleteNamespace(anyString());
    verify(k8s, never()).awaitNamespaceGone(anyString());
  }

  @Test
  void aFailedShaIsDeployedAgainByANewDelivery() {
    doThrow(FailureType.RolloutFailed.failure("progress deadline exceeded"))
        .doReturn(new RolloutResult(1))
        .when(k8s)
        .awaitRollout(rollout(SHA_A));
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    awaitStatus(app, "FAILED", s -> s.phase() == ReviewAppPhase.FAILED);

    app.deploy(deploy(SHA_A, "delivery-1")); // the same delivery again: still ignored
    assertThat(app.status().phase()).isEqualTo(ReviewAppPhase.FAILED);
    app.deploy(deploy(SHA_A, "retry-pipeline-1")); // a new delivery of the same commit

    assertThat(awaitReady(app, SHA_A).deployments()).isEqualTo(1);
    verify(k8s, times(2)).applyWorkload(workloadSpec(SHA_A));
  }

  @Test
  void aDuplicateIdempotencyKeyDeploysOnce() {
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    awaitReady(app, SHA_A);

    app.deploy(deploy(SHA_A, "delivery-1"));
    // A query after a signal waits for the workflow task that handled it (consistent query).
    ReviewAppStatus status = app.status();
    assertThat(status.phase()).isEqualTo(ReviewAppPhase.READY);
    assertThat(status.deployments()).isEqualTo(1);

    // Even after a newer push, a redelivered old webhook does not roll back to its commit.
    app.deploy(deploy(SHA_B, "delivery-2"));
    awaitReady(app, SHA_B);
    app.deploy(deploy(SHA_A, "delivery-1"));
    status = app.status();
    assertThat(status.phase()).isEqualTo(ReviewAppPhase.READY);
    assertThat(status.sha()).isEqualTo(SHA_B);
    assertThat(status.deployments()).isEqualTo(2);

    verify(k8s, times(1)).applyWorkload(workloadSpec(SHA_A));
    verify(k8s, times(1)).applyWorkload(workloadSpec(SHA_B));
  }

  @Test
  void aPushWebhookReachesTheRunningApp() {
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    awaitReady(app, SHA_A);

    // The webhook path always signals-with-start; a running app takes the signal.
    signalWithStart(client, deploy(SHA_B, "delivery-2"));

    ReviewAppStatus status = awaitReady(app, SHA_B);
    assertThat(status.deployments()).isEqualTo(2); // a new run would count from zero
    assertThat(events(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)).hasSize(2);
  }

  @Test
  void theSameShaUnderANewKeyIsNotDeployedTwiceWhileLive() {
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    awaitReady(app, SHA_A);

    app.deploy(deploy(SHA_A, "delivery-2"));

    ReviewAppStatus status = app.status();
    assertThat(status.phase()).isEqualTo(ReviewAppPhase.READY);
    assertThat(status.deployments()).isEqualTo(1);
    verify(k8s, times(1)).ensureNamespace(any());
    verify(k8s, times(1)).applyWorkload(any());
  }

  @Test
  void theSameShaUnderANewKeyDoesNotRestartItsDeploy() {
    kubernetes.hold(SHA_A);
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    awaitTrue("the rollout of A began", () -> kubernetes.rolloutsStarted.contains(SHA_A));

    app.deploy(deploy(SHA_A, "delivery-2"));
    assertThat(app.status().phase()).isEqualTo(ReviewAppPhase.DEPLOYING);
    kubernetes.release(SHA_A);

    assertThat(awaitReady(app, SHA_A).deployments()).isEqualTo(1);
    assertThat(kubernetes.rolloutsStarted).containsExactly(SHA_A);
    assertThat(kubernetes.rolloutsCancelled).isEmpty();
    verify(k8s, times(1)).applyWorkload(any());
  }

  @Test
  void teardownOutlastsNonRetryableFailures() {
    doThrow(FailureType.KubernetesForbidden.failure("namespaces is forbidden for ephemera"))
        .doThrow(FailureType.KubernetesForbidden.failure("namespaces is forbidden for ephemera"))
        .doNothing()
        .when(k8s)
        .deleteNamespace(NAMESPACE);
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    awaitReady(app, SHA_A);
    Instant stoppedAt = now();

    app.stop("merge request merged");

    ReviewAppStatus stopping =
        awaitStatus(
            app,
            "STOPPING with a forbidden delete",
            s -> s.lastError() != null && s.lastError().contains("KubernetesForbidden"));
    assertThat(stopping.phase()).isEqualTo(ReviewAppPhase.STOPPING);
    assertThat(stopping.lastError()).startsWith("delete namespace failed, retrying");

    ReviewAppStatus last = result(app);
    assertThat(last.phase()).isEqualTo(ReviewAppPhase.STOPPED);
    assertThat(last.stopReason()).isEqualTo("merge request merged");
    // Backoff of the workflow's own loop: 10 s, then 20 s.
    assertThat(now()).isAfterOrEqualTo(stoppedAt.plusSeconds(30));
    verify(k8s, times(3)).deleteNamespace(NAMESPACE);
    InOrder order = inOrder(k8s);
    order.verify(k8s).deleteWorkloads(NAMESPACE);
    order.verify(k8s, times(3)).deleteNamespace(NAMESPACE);
    order.verify(k8s).awaitNamespaceGone(NAMESPACE);
  }

  @Test
  void aNamespaceStuckInTerminatingIsReported() {
    NamespaceState stuck = new NamespaceState(false, now().minus(Duration.ofHours(1)));
    when(k8s.awaitNamespaceGone(NAMESPACE))
        .thenReturn(stuck, stuck, stuck, NamespaceState.goneNow());
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    awaitReady(app, SHA_A);

    app.stop("merge request closed");

    ReviewAppStatus stopping =
        awaitStatus(
            app,
            "STOPPING with a stuck namespace",
            s -> s.lastError() != null && s.lastError().contains("stuck in Terminating"));
    assertThat(stopping.phase()).isEqualTo(ReviewAppPhase.STOPPING);
    assertThat(stopping.lastError()).contains(NAMESPACE).contains(stuck.terminatingSince() + "");

    ReviewAppStatus last = result(app);
    assertThat(last.phase()).isEqualTo(ReviewAppPhase.STOPPED);
    verify(k8s, times(4)).awaitNamespaceGone(NAMESPACE);
    // Deleting again between checks recovers a deletion that was never recorded.
    verify(k8s, times(4)).deleteNamespace(NAMESPACE);
  }

  @Test
  void continueAsNewCarriesStateAndSeenKeys() {
    ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
    awaitReady(app, SHA_A);

    // Redeliveries are ignored, but they grow the history. Past 4 MB the test server suggests
    // continue-as-new, as a real server would, and the idle workflow honours it by itself.
    String bulky = "f".repeat(1_000_000);
    for (int i = 0; i < 5; i++) {
      app.deploy(deploy(bulky, "delivery-1"));
    }
    awaitTrue(
        "the workflow continued as new",
        () ->
            !firstEvent()
                .getWorkflowExecutionStartedEventAttributes()
                .getContinuedExecutionRunId()
                .isEmpty());
    String previousRun =
        firstEvent().getWorkflowExecutionStartedEventAttributes().getContinuedExecutionRunId();
    ReviewAppStatus handedOver =
        client
            .newWorkflowStub(ReviewAppWorkflow.class, WORKFLOW_ID, Optional.of(previousRun))
            .status();

    ReviewAppStatus carried = app.status();
    assertThat(carried.phase()).isEqualTo(ReviewAppPhase.READY);
    assertThat(carried.sha()).isEqualTo(SHA_A);
    assertThat(carried.deployments()).isEqualTo(1);
    assertThat(carried.url()).isEqualTo(URL);
    assertThat(carried.autoStopAt()).isEqualTo(handedOver.autoStopAt());
    assertThat(carried.resources()).isEqualTo(handedOver.resources());
    verify(config, times(2)).reviewSettings(PROJECT_ID); // once per run

    app.deploy(deploy(SHA_B, "delivery-2"));
    ReviewAppStatus status = awaitReady(app, SHA_B);
    assertThat(status.deployments()).isEqualTo(2);

    app.deploy(deploy(SHA_C, "delivery-1")); // seen by the previous run
    app.deploy(deploy(SHA_C, "delivery-2")); // seen by the previous run
    status = app.status();
    assertThat(status.sha()).isEqualTo(SHA_B);
    assertThat(status.phase()).isEqualTo(ReviewAppPhase.READY);
    verify(k8s, never()).applyWorkload(workloadSpec(SHA_C));
  }

  @Test
  void aRunStartedFromCarriedStateKeepsItAndItsSeenKeys() {
    Instant autoStopAt = now().plus(Duration.ofDays(2));
    ReviewAppStatus carried =
        new ReviewAppStatus(
            PROJECT_ID,
            PROJECT_PATH,
            MR_IID,
            ReviewAppPhase.READY,
            SHA_A,
            URL,
            NAMESPACE,
            3,
            autoStopAt,
            List.of("Namespace//" + NAMESPACE),
            null,
            null);
    ReviewAppRequest request =
        new ReviewAppRequest(
            PROJECT_ID,
            PROJECT_PATH,
            MR_IID,
            "Add the basket page",
            new ReviewAppRequest.Carried(carried, List.of("delivery-1", "delivery-2"), null));
    ReviewAppWorkflow app = client.newWorkflowStub(ReviewAppWorkflow.class, workflowOptions());
    WorkflowClient.start(app::run, request);

    app.deploy(deploy(SHA_C, "delivery-2"));
    app.deploy(deploy(SHA_A, "delivery-3"));

    ReviewAppStatus status = app.status();
    assertThat(status.phase()).isEqualTo(ReviewAppPhase.READY);
    assertThat(status.sha()).isEqualTo(SHA_A);
    assertThat(status.url()).isEqualTo(URL);
    assertThat(status.deployments()).isEqualTo(3);
    assertThat(status.autoStopAt()).isEqualTo(autoStopAt);
    assertThat(status.resources()).containsExactly("Namespace//" + NAMESPACE);
    verify(k8s, never()).applyWorkload(any());
    verify(k8s, never()).ensureNamespace(any());
  }

  @Test
  void aPendingDeployIsCarriedAcrossContinueAsNew() {
    ReviewAppRequest request =
        new ReviewAppRequest(
            PROJECT_ID,
            PROJECT_PATH,
            MR_IID,
            "Add the basket page",
            new ReviewAppRequest.Carried(null, List.of("delivery-1"), deploy(SHA_B, "delivery-2")));
    ReviewAppWorkflow app = client.newWorkflowStub(ReviewAppWorkflow.class, workflowOptions());
    WorkflowClient.start(app::run, request);

    assertThat(awaitReady(app, SHA_B).deployments()).isEqualTo(1);
    verify(k8s).applyWorkload(workloadSpec(SHA_B));
  }

  private ReviewAppStatus result(ReviewAppWorkflow app) {
    return WorkflowStub.fromTyped(app).getResult(ReviewAppResult.class).finalStatus();
  }

  private Instant now() {
    return Instant.ofEpochMilli(env.currentTimeMillis());
  }

  private HistoryEvent firstEvent() {
    return client.fetchHistory(WORKFLOW_ID).getEvents().get(0);
  }

  private List<HistoryEvent> events(EventType type) {
    return client.fetchHistory(WORKFLOW_ID).getEvents().stream()
        .filter(e -> e.getEventType() == type)
        .toList();
  }
}
