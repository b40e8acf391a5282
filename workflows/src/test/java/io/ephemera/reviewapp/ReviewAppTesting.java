package io.ephemera.reviewapp;

import static org.assertj.core.api.Assertions.fail;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;
import static org.mockito.Mockito.withSettings;

import io.ephemera.activity.build.BuildActivities;
import io.ephemera.activity.build.BuildRequest;
import io.ephemera.activity.build.BuildResult;
import io.ephemera.activity.config.ConfigActivities;
import io.ephemera.activity.config.ReviewSettings;
import io.ephemera.activity.credentials.CredentialActivities;
import io.ephemera.activity.credentials.CredentialPurpose;
import io.ephemera.activity.credentials.CredentialRequest;
import io.ephemera.activity.credentials.IssuedCredentials;
import io.ephemera.activity.credentials.Lease;
import io.ephemera.activity.gitlab.GitLabFeedbackActivities;
import io.ephemera.activity.kubernetes.KubernetesActivities;
import io.ephemera.activity.kubernetes.NamespaceSpec;
import io.ephemera.activity.kubernetes.NamespaceState;
import io.ephemera.activity.kubernetes.RolloutRequest;
import io.ephemera.activity.kubernetes.RolloutResult;
import io.ephemera.activity.kubernetes.WorkloadSpec;
import io.ephemera.common.ActivityDefaults;
import io.ephemera.common.EphemeraSearchAttributes;
import io.ephemera.common.FailureType;
import io.ephemera.common.Names;
import io.ephemera.common.TaskQueues;
import io.ephemera.common.WorkflowIds;
import io.temporal.activity.ActivityOptions;
import io.temporal.api.enums.v1.WorkflowIdConflictPolicy;
import io.temporal.client.BatchRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.RetryOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkflowImplementationOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The one way tests build a review-app worker: the settings the workflow reads, the activity
 * options the worker would supply (the workflow sets none itself), mocks with sensible answers, and
 * client helpers that speak to the workflow the way the api does.
 */
final class ReviewAppTesting {
  static final long PROJECT_ID = 42;
  static final String PROJECT_PATH = "group/shop";
  static final long MR_IID = 7;
  static final String WORKFLOW_ID = WorkflowIds.reviewApp(PROJECT_ID, MR_IID);
  static final String NAMESPACE = Names.reviewNamespace(PROJECT_ID, PROJECT_PATH, MR_IID);
  static final String URL = "https://mr-7.review.example.test";
  static final String HOST = "mr-7.review.example.test";
  static final String BUILD_NAMESPACE = "ephemera-builds";

  static final String SHA_A = "a".repeat(40);
  static final String SHA_B = "b".repeat(40);
  static final String SHA_C = "c".repeat(40);

  static final Duration AUTO_STOP = Duration.ofDays(3);
  static final Duration JITTER = Duration.ofMinutes(10);
  static final Duration MAX_EXTEND = Duration.ofDays(7);
  static final Duration STUCK_AFTER = Duration.ofMinutes(10);
  static final Duration TEARDOWN_POLL = Duration.ofSeconds(10);

  /** How long a test waits, in real time, for the workflow to reach a state. */
  static final Duration PATIENCE = Duration.ofSeconds(15);

  private ReviewAppTesting() {}

  static ReviewSettings settings() {
    return new ReviewSettings(
        AUTO_STOP,
        JITTER,
        MAX_EXTEND,
        "mr-{iid}.{domain}",
        "review.example.test",
        "https",
        "{registry}/{project}:{sha}",
        "registry.example.test",
        STUCK_AFTER,
        TEARDOWN_POLL,
        true,
        BUILD_NAMESPACE);
  }

  static String image(String sha) {
    return "registry.example.test/group/shop:" + sha;
  }

  static NamespaceSpec namespaceSpec() {
    return new NamespaceSpec(NAMESPACE, WORKFLOW_ID, PROJECT_ID, MR_IID);
  }

  static WorkloadSpec workloadSpec(String sha) {
    return new WorkloadSpec(
        NAMESPACE, WORKFLOW_ID, sha, image(sha), HOST, ReviewAppWorkflowImpl.PULL_SECRET);
  }

  static RolloutRequest rollout(String sha) {
    return new RolloutRequest(NAMESPACE, sha);
  }

  /**
   * What the worker supplies in production (see {@code ActivitiesProperties}), with short values:
   * three attempts one second apart, non-retryable failure types never retried, and heartbeat
   * timeouts on the two waits so a cancelled wait learns of it within about a second.
   */
  static WorkflowImplementationOptions workflowImplementationOptions() {
    RetryOptions retry =
        RetryOptions.newBuilder()
            .setInitialInterval(Duration.ofSeconds(1))
            .setBackoffCoefficient(2.0)
            .setMaximumAttempts(3)
            .setDoNotRetry(FailureType.nonRetryableTypes())
            .build();
    ActivityOptions defaults =
        ActivityDefaults.newBuilder()
            .setStartToCloseTimeout(Duration.ofSeconds(30))
            .setRetryOptions(retry)
            .build();
    ActivityOptions waits =
        ActivityOptions.newBuilder(defaults)
            .setStartToCloseTimeout(Duration.ofMinutes(10))
            .setHeartbeatTimeout(Duration.ofSeconds(2))
            .build();
    return WorkflowImplementationOptions.newBuilder()
        .setDefaultActivityOptions(defaults)
        .setActivityOptions(
            ActivityDefaults.perType(
                defaults,
                Map.of(
                    "KubernetesAwaitRollout",
                    waits,
                    "KubernetesAwaitNamespaceGone",
                    waits,
                    "BuildBuild",
                    waits),
                KubernetesActivities.class,
                GitLabFeedbackActivities.class,
                CredentialActivities.class,
                BuildActivities.class))
        .build();
  }

  /** Registers the review-app workflow the way the worker does. */
  static void registerReviewApp(Worker worker) {
    registerReviewApp(worker, ReviewAppWorkflowImpl.class);
  }

  /** Registers {@code implementation} (a test-only variant) under the review-app type. */
  static void registerReviewApp(Worker worker, Class<? extends ReviewAppWorkflow> implementation) {
    worker.registerWorkflowImplementationTypes(workflowImplementationOptions(), implementation);
  }

  /**
   * A started time-skipping environment whose worker runs the review-app workflow and {@code
   * activities} on the review-app task queue.
   */
  static TestWorkflowEnvironment startEnvironment(Object... activities) {
    TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance();
    EphemeraSearchAttributes.ALL.forEach(env::registerSearchAttribute);
    Worker worker = env.newWorker(TaskQueues.REVIEW_APPS);
    registerReviewApp(worker);
    worker.registerActivitiesImplementations(activities);
    if (java.util.Arrays.stream(activities).noneMatch(a -> a instanceof GitLabFeedbackActivities)) {
      worker.registerActivitiesImplementations(feedbackMock());
    }
    if (java.util.Arrays.stream(activities).noneMatch(a -> a instanceof CredentialActivities)) {
      worker.registerActivitiesImplementations(credentialsMock());
    }
    if (java.util.Arrays.stream(activities).noneMatch(a -> a instanceof BuildActivities)) {
      worker.registerActivitiesImplementations(buildMock());
    }
    env.start();
    return env;
  }

  /** A GitLab feedback mock that succeeds at everything and answers ids. */
  static GitLabFeedbackActivities feedbackMock() {
    GitLabFeedbackActivities gitlab =
        mock(GitLabFeedbackActivities.class, withSettings().withoutAnnotations());
    when(gitlab.upsertEnvironment(any())).thenReturn(11L);
    when(gitlab.recordDeployment(any())).thenReturn(22L);
    when(gitlab.upsertNote(any())).thenReturn(33L);
    return gitlab;
  }

  /** The lease each {@link #credentialsMock} issue answers for {@code purpose}. */
  static Lease lease(CredentialPurpose purpose, int n) {
    return new Lease(
        "aws/creds/review/" + purpose.name().toLowerCase() + "-" + n,
        purpose == CredentialPurpose.BUILD ? "build-cache" : "registry-pull",
        purpose == CredentialPurpose.BUILD ? "aws/creds/review" : "registry/pull",
        java.time.Instant.parse("2030-01-01T00:00:00Z"));
  }

  /** Issues one fresh lease per call (numbered per purpose) and revokes without complaint. */
  static CredentialActivities credentialsMock() {
    CredentialActivities credentials =
        mock(CredentialActivities.class, withSettings().withoutAnnotations());
    java.util.concurrent.atomic.AtomicInteger issued =
        new java.util.concurrent.atomic.AtomicInteger();
    when(credentials.issue(any()))
        .thenAnswer(
            inv -> {
              CredentialRequest r = inv.getArgument(0);
              return new IssuedCredentials(
                  r.secretNamespace(),
                  r.secretName(),
                  List.of(lease(r.purpose(), issued.incrementAndGet())));
            });
    return credentials;
  }

  /** Builds instantly and answers the destination as the image. */
  static BuildActivities buildMock() {
    BuildActivities builds = mock(BuildActivities.class, withSettings().withoutAnnotations());
    when(builds.build(any()))
        .thenAnswer(inv -> new BuildResult(inv.<BuildRequest>getArgument(0).destination(), false));
    return builds;
  }

  /** A Kubernetes mock that succeeds at everything, as Temporal's docs advise creating it. */
  static KubernetesActivities kubernetesMock() {
    KubernetesActivities k8s =
        mock(KubernetesActivities.class, withSettings().withoutAnnotations());
    when(k8s.ensureNamespace(any()))
        .thenAnswer(
            inv -> {
              String ns = inv.<NamespaceSpec>getArgument(0).namespace();
              return List.of("Namespace//" + ns, "ResourceQuota/" + ns + "/review-app");
            });
    when(k8s.applyWorkload(any()))
        .thenAnswer(
            inv -> {
              String ns = inv.<WorkloadSpec>getArgument(0).namespace();
              return List.of(
                  "Deployment/" + ns + "/app", "Service/" + ns + "/app", "Ingress/" + ns + "/app");
            });
    when(k8s.awaitRollout(any())).thenReturn(new RolloutResult(1));
    when(k8s.awaitNamespaceGone(anyString())).thenReturn(NamespaceState.goneNow());
    return k8s;
  }

  static ConfigActivities configMock() {
    ConfigActivities config = mock(ConfigActivities.class, withSettings().withoutAnnotations());
    when(config.reviewSettings(anyLong())).thenReturn(settings());
    return config;
  }

  static ReviewAppRequest request() {
    return new ReviewAppRequest(PROJECT_ID, PROJECT_PATH, MR_IID, "Add the basket page");
  }

  static WorkflowOptions workflowOptions() {
    return WorkflowOptions.newBuilder()
        .setWorkflowId(WORKFLOW_ID)
        .setTaskQueue(TaskQueues.REVIEW_APPS)
        .setWorkflowIdConflictPolicy(
            WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
        .build();
  }

  /** What the webhook path does for an opened or updated merge request. */
  static ReviewAppWorkflow signalWithStart(WorkflowClient client, DeployRequest deploy) {
    return signalWithStart(client, request(), deploy);
  }

  static ReviewAppWorkflow signalWithStart(
      WorkflowClient client, ReviewAppRequest request, DeployRequest deploy) {
    ReviewAppWorkflow workflow = client.newWorkflowStub(ReviewAppWorkflow.class, workflowOptions());
    BatchRequest batch = client.newSignalWithStartRequest();
    batch.add(workflow::run, request);
    batch.add(workflow::deploy, deploy);
    client.signalWithStart(batch);
    return client.newWorkflowStub(ReviewAppWorkflow.class, WORKFLOW_ID);
  }

  /** Polls {@code status()} in real time until {@code condition} holds. */
  static ReviewAppStatus awaitStatus(
      ReviewAppWorkflow workflow, String description, Predicate<ReviewAppStatus> condition) {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    ReviewAppStatus last = null;
    while (System.nanoTime() < deadline) {
      last = workflow.status();
      if (condition.test(last)) {
        return last;
      }
      sleep(Duration.ofMillis(20));
    }
    return fail("status never became %s; last was %s", description, last);
  }

  static ReviewAppStatus awaitReady(ReviewAppWorkflow workflow, String sha) {
    return awaitStatus(
        workflow,
        "READY with " + sha,
        s -> s.phase() == ReviewAppPhase.READY && sha.equals(s.sha()));
  }

  /** Waits in real time until {@code condition} holds. */
  static void awaitTrue(String description, java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting until " + description);
      }
      sleep(Duration.ofMillis(20));
    }
  }

  static void sleep(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static DeployRequest deploy(String sha, String key) {
    return new DeployRequest(sha, key);
  }
}
