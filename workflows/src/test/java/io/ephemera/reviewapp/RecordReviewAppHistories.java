package io.ephemera.reviewapp;

import static io.ephemera.reviewapp.ReviewAppTesting.NAMESPACE;
import static io.ephemera.reviewapp.ReviewAppTesting.SHA_A;
import static io.ephemera.reviewapp.ReviewAppTesting.SHA_B;
import static io.ephemera.reviewapp.ReviewAppTesting.WORKFLOW_ID;
import static io.ephemera.reviewapp.ReviewAppTesting.awaitReady;
import static io.ephemera.reviewapp.ReviewAppTesting.awaitStatus;
import static io.ephemera.reviewapp.ReviewAppTesting.awaitTrue;
import static io.ephemera.reviewapp.ReviewAppTesting.buildMock;
import static io.ephemera.reviewapp.ReviewAppTesting.configMock;
import static io.ephemera.reviewapp.ReviewAppTesting.credentialsMock;
import static io.ephemera.reviewapp.ReviewAppTesting.deploy;
import static io.ephemera.reviewapp.ReviewAppTesting.rollout;
import static io.ephemera.reviewapp.ReviewAppTesting.signalWithStart;
import static io.ephemera.reviewapp.ReviewAppTesting.startEnvironment;
import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.when;

import io.ephemera.activity.build.BuildActivities;
import io.ephemera.activity.kubernetes.NamespaceState;
import io.ephemera.common.FailureType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Records the histories {@link ReviewAppReplayTest} replays. Off by default; run it when the
 * workflow logic changes, and keep the histories recorded before:
 *
 * <pre>
 * ./mvnw -B -pl workflows test -Dtest=RecordReviewAppHistories -Dephemera.record-histories=true
 * </pre>
 *
 * Files go to {@code src/test/resources/histories/review-app/} (override with {@code
 * -Dephemera.histories-dir=...}). Recording a name that already exists overwrites it, so give a
 * changed path a new file name rather than re-recording an old one.
 */
@EnabledIfSystemProperty(named = "ephemera.record-histories", matches = "true")
class RecordReviewAppHistories {
  private static final Path DIR =
      Path.of(
          System.getProperty("ephemera.histories-dir", "src/test/resources/histories/review-app"));

  /** Open → READY → push → READY → merged → STOPPED. */
  @Test
  void openPushClose() throws IOException {
    ControllableKubernetes kubernetes = new ControllableKubernetes();
    try (TestWorkflowEnvironment env = startEnvironment(kubernetes, configMock())) {
      WorkflowClient client = env.getWorkflowClient();
      ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
      awaitReady(app, SHA_A);
      app.deploy(deploy(SHA_B, "delivery-2"));
      awaitReady(app, SHA_B);
      app.stop("merge request merged");
      assertStopped(app);
      write(client, "open-push-close.json");
    } finally {
      kubernetes.close();
    }
  }

  /**
   * As {@link #openPushClose}, recorded after the workflow started deleting every successful build
   * itself (change id {@code delete-build-after-success}): each deploy's {@code BuildDeleteBuild}
   * after its build, and the version marker.
   */
  @Test
  void openPushCloseDeletingEachBuild() throws IOException {
    ControllableKubernetes kubernetes = new ControllableKubernetes();
    try (TestWorkflowEnvironment env = startEnvironment(kubernetes, configMock())) {
      WorkflowClient client = env.getWorkflowClient();
      ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
      awaitReady(app, SHA_A);
      app.deploy(deploy(SHA_B, "delivery-2"));
      awaitReady(app, SHA_B);
      app.stop("merge request merged");
      assertStopped(app);
      write(client, "open-push-close-build-deleted.json");
    } finally {
      kubernetes.close();
    }
  }

  /** Open → rollout fails (FAILED) → push → READY → idle for three days → STOPPED. */
  @Test
  void openFailPushAutoStop() throws IOException {
    ControllableKubernetes kubernetes = new ControllableKubernetes();
    doThrow(FailureType.RolloutFailed.failure("ErrImagePull: manifest unknown"))
        .when(kubernetes.calls)
        .awaitRollout(rollout(SHA_A));
    try (TestWorkflowEnvironment env = startEnvironment(kubernetes, configMock())) {
      WorkflowClient client = env.getWorkflowClient();
      ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
      awaitStatus(app, "FAILED", s -> s.phase() == ReviewAppPhase.FAILED);
      app.deploy(deploy(SHA_B, "delivery-2"));
      awaitReady(app, SHA_B);
      assertStopped(app);
      write(client, "open-fail-push-autostop.json");
    } finally {
      kubernetes.close();
    }
  }

  /**
   * Open → READY → extend (update) → idle → teardown through a forbidden delete and a namespace
   * stuck in Terminating → STOPPED.
   */
  @Test
  void openExtendAutoStopWithAStubbornTeardown() throws IOException {
    ControllableKubernetes kubernetes = new ControllableKubernetes();
    try (TestWorkflowEnvironment env = startEnvironment(kubernetes, configMock())) {
      doThrow(FailureType.KubernetesForbidden.failure("namespaces is forbidden"))
          .doNothing()
          .when(kubernetes.calls)
          .deleteNamespace(NAMESPACE);
      NamespaceState stuck =
          new NamespaceState(
              false, Instant.ofEpochMilli(env.currentTimeMillis()).minus(Duration.ofHours(1)));
      when(kubernetes.calls.awaitNamespaceGone(NAMESPACE))
          .thenReturn(stuck, NamespaceState.goneNow());
      WorkflowClient client = env.getWorkflowClient();
      ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
      awaitReady(app, SHA_A);
      app.extend(new ExtendRequest("PT96H"));
      assertStopped(app);
      write(client, "open-extend-autostop-stubborn-teardown.json");
    } finally {
      kubernetes.close();
    }
  }

  /** Open → a push while the first rollout waits supersedes it → READY → closed → STOPPED. */
  @Test
  void pushDuringDeployThenClose() throws IOException {
    ControllableKubernetes kubernetes = new ControllableKubernetes();
    kubernetes.hold(SHA_A);
    try (TestWorkflowEnvironment env = startEnvironment(kubernetes, configMock())) {
      WorkflowClient client = env.getWorkflowClient();
      ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
      awaitTrue("the rollout of A began", () -> kubernetes.rolloutsStarted.contains(SHA_A));
      app.deploy(deploy(SHA_B, "delivery-2"));
      awaitReady(app, SHA_B);
      awaitTrue("A's rollout was cancelled", () -> kubernetes.rolloutsCancelled.contains(SHA_A));
      app.stop("merge request closed");
      assertStopped(app);
      write(client, "push-during-deploy-close.json");
    } finally {
      kubernetes.close();
    }
  }

  /** Open → the build fails (FAILED, build lease revoked) → push → READY → closed → STOPPED. */
  @Test
  void buildFailsThenPushThenClose() throws IOException {
    ControllableKubernetes kubernetes = new ControllableKubernetes();
    BuildActivities builds = buildMock();
    doThrow(FailureType.BuildFailed.failure("kaniko exited 1; last lines:\nCOPY failed"))
        .when(builds)
        .build(argThat(b -> b != null && SHA_A.equals(b.sha())));
    try (TestWorkflowEnvironment env =
        startEnvironment(kubernetes, configMock(), credentialsMock(), builds)) {
      WorkflowClient client = env.getWorkflowClient();
      ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
      awaitStatus(app, "FAILED", s -> s.phase() == ReviewAppPhase.FAILED && s.leases().isEmpty());
      app.deploy(deploy(SHA_B, "delivery-2"));
      awaitReady(app, SHA_B);
      app.stop("merge request closed");
      assertStopped(app);
      write(client, "build-fails-push-close.json");
    } finally {
      kubernetes.close();
    }
  }

  /** Open → closed while the build runs: build cancelled, its lease revoked → STOPPED. */
  @Test
  void closeDuringBuild() throws IOException {
    ControllableKubernetes kubernetes = new ControllableKubernetes();
    ReviewAppCredentialsAndBuildTest.HeldBuilds builds =
        new ReviewAppCredentialsAndBuildTest.HeldBuilds();
    builds.hold(SHA_A);
    try (TestWorkflowEnvironment env =
        startEnvironment(kubernetes, configMock(), credentialsMock(), builds)) {
      WorkflowClient client = env.getWorkflowClient();
      ReviewAppWorkflow app = signalWithStart(client, deploy(SHA_A, "delivery-1"));
      awaitTrue("the build of A began", () -> builds.started.contains(SHA_A));
      app.stop("merge request closed");
      assertStopped(app);
      write(client, "close-during-build.json");
    } finally {
      builds.close();
      kubernetes.close();
    }
  }

  private static void assertStopped(ReviewAppWorkflow app) {
    ReviewAppResult result = WorkflowStub.fromTyped(app).getResult(ReviewAppResult.class);
    assertThat(result.finalStatus().phase()).isEqualTo(ReviewAppPhase.STOPPED);
  }

  private static void write(WorkflowClient client, String fileName) throws IOException {
    Files.createDirectories(DIR);
    Path file = DIR.resolve(fileName);
    Files.writeString(file, client.fetchHistory(WORKFLOW_ID).toJson(true) + "\n");
    System.out.println("Recorded " + file.toAbsolutePath());
  }
}
