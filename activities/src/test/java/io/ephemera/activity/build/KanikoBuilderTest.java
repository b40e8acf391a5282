package io.ephemera.activity.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.ephemera.activity.credentials.SecretKeys;
import io.ephemera.common.FailureType;
import io.ephemera.common.Labels;
import io.ephemera.sandbox.SandboxRegistry;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.temporal.activity.ActivityOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Kaniko builder against Fabric8's mock API server in CRUD mode (with expectations for the pod
 * log, which CRUD does not serve), in a real activity context. The mock runs nothing: tests play
 * the Job controller and kubelet themselves, between two polls of the builder.
 */
@EnableKubernetesMockClient(crud = true, https = false)
class KanikoBuilderTest {
  static final String WORKFLOW_ID = "review-app/42/mr-7";
  static final String WORKFLOW_LABEL = "review-app.42.mr-7";
  static final String NS = "review-42-mr-7-group-app";
  static final String SHA = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";
  static final String NAME = "build-da1560886d4f";
  static final String SECRET = "build-da1560886d4f-credentials";
  static final String REGISTRY_USER = "robot-ephemera-sandbox-secret-user";
  static final String REGISTRY_PASSWORD = "pw-ephemera-sandbox-secret-4711";
  static final String GIT_PASSWORD = "glpat-ephemera-sandbox-secret-git";

  KubernetesMockServer server;
  KubernetesClient client;

  SandboxRegistry registry;
  FakeTime time;
  TestActivityEnvironment env;
  BuildActivities builds;
  final List<String> heartbeats = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() {
    registry = SandboxRegistry.start(0);
    time = new FakeTime();
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .create();
    createSecret(registry.host());
    builds = stub(props(BuildProperties.defaults()));
  }

  @AfterEach
  void tearDown() {
    env.close();
    registry.close();
  }

  // ---- the Job ----

  @Test
  void theJobRunsKanikoOnTheCommitWithTheCredentialsFromTheSecret() {
    AtomicReference<Job> seen = new AtomicReference<>();
    time.onSleep(
        () -> {
          seen.set(job());
          succeed();
        });

    BuildResult result = builds.build(request());

    assertThat(result).isEqualTo(new BuildResult(destination(), false));
    Job job = seen.get();
    assertThat(job.getMetadata().getLabels())
        .containsEntry(Labels.MANAGED_BY, "ephemera")
        .containsEntry(Labels.WORKFLOW_ID, WORKFLOW_LABEL)
        .containsEntry(Labels.KIND, "build")
        .containsEntry(Labels.SHA, SHA)
        .containsEntry(Labels.PROJECT_ID, "42")
        .containsEntry(BuildLabels.BUILD, NAME);
    assertThat(job.getMetadata().getAnnotations())
        .containsEntry(Labels.WORKFLOW_ID_ANNOTATION, WORKFLOW_ID);
    assertThat(job.getSpec().getBackoffLimit()).isZero();
    assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(1800L);
    assertThat(job.getSpec().getTtlSecondsAfterFinished()).isEqualTo(3600);
    assertThat(job.getSpec().getTemplate().getMetadata().getLabels())
        .containsEntry(BuildLabels.BUILD, NAME)
        .containsEntry(Labels.WORKFLOW_ID, WORKFLOW_LABEL);

    PodSpec pod = job.getSpec().getTemplate().getSpec();
    assertThat(pod.getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    Container c = pod.getContainers().getFirst();
    assertThat(c.getImage()).isEqualTo(BuildProperties.DEFAULT_EXECUTOR_IMAGE);
    assertThat(c.getArgs())
        .containsExactly(
            "--context=git://gitlab.example.com/group/app.git#refs/merge-requests/7/head#" + SHA,
            "--dockerfile=Dockerfile",
            "--destination=" + destination(),
            "--cache=true",
            "--cache-ttl=168h",
            "--insecure");
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(c.getSecurityContext().getPrivileged()).isFalse();
    assertThat(c.getResources().getLimits()).containsEntry("memory", new Quantity("4Gi"));
    assertThat(c.getVolumeMounts())
        .singleElement()
        .satisfies(
            m -> {
              assertThat(m.getMountPath()).isEqualTo("/kaniko/.docker");
              assertThat(m.getReadOnly()).isTrue();
            });
    Volume v = pod.getVolumes().getFirst();
    assertThat(v.getName()).isEqualTo(c.getVolumeMounts().getFirst().getName());
    assertThat(v.getSecret().getSecretName()).isEqualTo(SECRET);
    assertThat(v.getSecret().getItems())
        .singleElement()
        .satisfies(
            i -> {
              assertThat(i.getKey()).isEqualTo(SecretKeys.DOCKER_CONFIG);
              assertThat(i.getPath()).isEqualTo("config.json");
            });
    Map<String, EnvVar> env = new java.util.HashMap<>();
    c.getEnv().forEach(e -> env.put(e.getName(), e));
    assertThat(env)
        .containsOnlyKeys(
            SecretKeys.GIT_USERNAME,
            SecretKeys.GIT_PASSWORD,
            SecretKeys.AWS_ACCESS_KEY_ID,
            SecretKeys.AWS_SECRET_ACCESS_KEY,
            SecretKeys.AWS_SESSION_TOKEN);
    env.values()
        .forEach(
            e -> {
              assertThat(e.getValue()).isNull();
              assertThat(e.getValueFrom().getSecretKeyRef().getName()).isEqualTo(SECRET);
              assertThat(e.getValueFrom().getSecretKeyRef().getKey()).isEqualTo(e.getName());
              assertThat(e.getValueFrom().getSecretKeyRef().getOptional()).isTrue();
            });
    assertThat(client.getKubernetesSerialization().asJson(job))
        .doesNotContain("ephemera-sandbox-secret");
  }

  @Test
  void configurationReachesTheJob() {
    BuildProperties custom =
        new BuildProperties(
            "registry.example.com/kaniko:v9",
            new BuildProperties.Context(
                URI.create("http://gitlab.internal:8080/gl/"),
                "refs/heads/main",
                "ci/Dockerfile",
                "svc"),
            new BuildProperties.Cache(true, "registry.example.com/cache", Duration.ofHours(2)),
            List.of("--snapshot-mode=redo"),
            new BuildProperties.Resources("1", "2Gi", "3", "6Gi"),
            600,
            120,
            null,
            null,
            0,
            new BuildProperties.Registry("http", null),
            null,
            null);
    builds = stub(props(custom));
    AtomicReference<Job> seen = new AtomicReference<>();
    time.onSleep(
        () -> {
          seen.set(job());
          succeed();
        });

    builds.build(request());

    Job job = seen.get();
    assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(600L);
    assertThat(job.getSpec().getTtlSecondsAfterFinished()).isEqualTo(120);
    Container c = job.getSpec().getTemplate().getSpec().getContainers().getFirst();
    assertThat(c.getImage()).isEqualTo("registry.example.com/kaniko:v9");
    assertThat(c.getArgs())
        .containsExactly(
            "--context=git://gitlab.internal:8080/gl/group/app.git#refs/heads/main#" + SHA,
            "--context-sub-path=svc",
            "--dockerfile=ci/Dockerfile",
            "--destination=" + destination(),
            "--cache=true",
            "--cache-repo=registry.example.com/cache",
            "--cache-ttl=2h",
            "--insecure",
            "--snapshot-mode=redo");
    assertThat(c.getEnv())
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("GIT_PULL_METHOD");
              assertThat(e.getValue()).isEqualTo("http");
            });
    assertThat(c.getResources().getRequests()).containsEntry("cpu", new Quantity("1"));
  }

  // ---- outcomes ----

  @Test
  void aSuccessfulBuildDeletesItsPodsAndSecretAndKeepsItsFinishedJobForDeleteBuild() {
    time.onSleep(this::succeed);

    BuildResult result = builds.build(request());

    assertThat(result.skipped()).isFalse();
    assertThat(job()).isNotNull();
    assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
    assertThat(client.secrets().inNamespace(NS).withName(SECRET).get()).isNull();
    assertThat(heartbeats).isNotEmpty().allSatisfy(h -> assertThat(h).contains(NAME));

    builds.deleteBuild(request());
    assertThat(job()).isNull();
  }

  /**
   * Found by the chaos suite: the first attempt built and cleaned up, then its answer was lost (a
   * worker restart, a call that timed out). The retry found neither Job nor Secret, could not ask
   * the registry without the Secret's login, and failed the deploy for good with BuildFailed.
   */
  @Test
  void aRetryAfterASuccessWhoseAnswerWasLostSucceedsWithoutBuildingAgain() {
    time.onSleep(this::succeed);
    builds.build(request());
    String uid = job().getMetadata().getUid();

    BuildResult retried = builds.build(request());

    assertThat(retried).isEqualTo(new BuildResult(destination(), false));
    assertThat(job().getMetadata().getUid()).as("attached, not created again").isEqualTo(uid);
  }

  @Test
  void aFailedBuildFailsForGoodWithTheTailOfItsLogAndIsCleanedUp() {
    String podName = NAME + "-x7k2p";
    server
        .expect()
        .get()
        .withPath(
            "/api/v1/namespaces/"
                + NS
                + "/pods/"
                + podName
                + "/log?pretty=false&container=kaniko&tailLines=50")
        .andReturn(
            200,
            "INFO[0003] RUN make\nmake: *** [build] Error 2 (token "
                + GIT_PASSWORD
                + ")\nerror building image: exit status 2\n")
        .once();
    time.onSleep(() -> fail(podName));

    Throwable t = catchThrowable(() -> builds.build(request()));

    ApplicationFailure f = applicationFailure(t);
    assertThat(f.getType()).isEqualTo(FailureType.BuildFailed.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage())
        .startsWith("build " + NAME + " of " + destination() + " failed: BackoffLimitExceeded")
        .contains("container kaniko exited with code 2 (Error)")
        .endsWith(
            "Last lines of the build log:\nINFO[0003] RUN make\nmake: *** [build] Error 2 (token "
                + KanikoBuilder.REDACTED
                + ")\nerror building image: exit status 2")
        .doesNotContain("ephemera-sandbox-secret");
    assertThat(job()).isNull();
    assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
    assertThat(client.secrets().inNamespace(NS).withName(SECRET).get()).isNull();
  }

  @Test
  void aBuildStillRunningAfterTheBudgetIsPendingAndTheRetryReattachesToTheSameJob() {
    Throwable t = catchThrowable(() -> builds.build(request()));

    ApplicationFailure f = applicationFailure(t);
    assertThat(f.getType()).isEqualTo(FailureType.BuildPending.name());
    assertThat(f.isNonRetryable()).isFalse();
    Job first = job();
    assertThat(first).isNotNull();
    assertThat(client.secrets().inNamespace(NS).withName(SECRET).get()).isNotNull();
    // 5 minutes of polls: 0.1, 0.2, 0.4, 0.8, 1.6 s, then 2 s, the last one cut to the budget.
    assertThat(time.sleeps()).isEqualTo(154);

    AtomicReference<String> uidDuringRetry = new AtomicReference<>();
    time.onSleep(
        () -> {
          uidDuringRetry.set(job().getMetadata().getUid());
          succeed();
        });
    BuildResult result = builds.build(request());

    assertThat(result).isEqualTo(new BuildResult(destination(), false));
    assertThat(uidDuringRetry.get()).isEqualTo(first.getMetadata().getUid());
    assertThat(client.secrets().inNamespace(NS).withName(SECRET).get()).isNull();
  }

  @Test
  void cancellingTheBuildDeletesItsJob() {
    builds =
        env.newActivityStub(
            BuildActivities.class,
            ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofMinutes(1))
                .setHeartbeatTimeout(Duration.ofMillis(500))
                .build());
    time.onSleep(() -> env.requestCancelActivity());
    // Heartbeats reach the server at most every 0.8 heartbeat timeouts: let real time pass, so the
    // cancellation comes back on one of them.
    for (int i = 0; i < 50; i++) {
      time.onSleep(KanikoBuilderTest::pause);
    }

    Throwable t = catchThrowable(() -> builds.build(request()));

    assertThat(t).isInstanceOf(CanceledFailure.class);
    assertThat(job()).isNull();
    assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
    assertThat(client.secrets().inNamespace(NS).withName(SECRET).get()).isNull();
  }

  @Test
  void aJobOfAnotherWorkflowIsNeverAttachedTo() {
    client
        .batch()
        .v1()
        .jobs()
        .inNamespace(NS)
        .resource(
            new io.fabric8.kubernetes.api.model.batch.v1.JobBuilder()
                .withNewMetadata()
                .withName(NAME)
                .withLabels(
                    Map.of(Labels.MANAGED_BY, "ephemera", Labels.WORKFLOW_ID, "review-app.1.mr-1"))
                .endMetadata()
                .withNewSpec()
                .withNewTemplate()
                .withNewSpec()
                .addNewContainer()
                .withName("x")
                .withImage("busybox")
                .endContainer()
                .endSpec()
                .endTemplate()
                .endSpec()
                .build())
        .create();

    ApplicationFailure f = applicationFailure(catchThrowable(() -> builds.build(request())));

    assertThat(f.getType()).isEqualTo(FailureType.InvalidName.name());
    assertThat(job().getMetadata().getLabels())
        .containsEntry(Labels.WORKFLOW_ID, "review-app.1.mr-1");
  }

  // ---- the registry check ----

  @Test
  void aTagTheRegistryAlreadyHasIsNotBuiltAgain() {
    registry.push(destination());

    BuildResult result = builds.build(request());

    assertThat(result).isEqualTo(new BuildResult(destination(), true));
    assertThat(job()).isNull();
    // Kept for a retry whose answer was lost: it holds the login the tag check needs.
    assertThat(client.secrets().inNamespace(NS).withName(SECRET).get()).isNotNull();
    assertThat(builds.build(request())).isEqualTo(new BuildResult(destination(), true));

    builds.deleteBuild(request());
    assertThat(client.secrets().inNamespace(NS).withName(SECRET).get()).isNull();
  }

  @Test
  void theTagCheckFollowsTheBearerTokenFlowWithTheIssuedCredential() throws Exception {
    try (MockWebServer bearer = new MockWebServer()) {
      List<RecordedRequest> seen = new CopyOnWriteArrayList<>();
      bearer.setDispatcher(
          new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest r) {
              seen.add(r);
              String auth = r.getHeaders().get("Authorization");
              String path = r.getUrl().encodedPath();
              if (path.equals("/token")) {
                String expected =
                    "Basic "
                        + Base64.getEncoder()
                            .encodeToString(
                                (REGISTRY_USER + ":" + REGISTRY_PASSWORD)
                                    .getBytes(StandardCharsets.UTF_8));
                return expected.equals(auth)
                    ? new MockResponse.Builder()
                        .code(200)
                        .body("{\"token\":\"t0k3n-123456\"}")
                        .build()
                    : new MockResponse.Builder().code(401).build();
              }
              if ("Bearer t0k3n-123456".equals(auth)) {
                return new MockResponse.Builder()
                    .code(200)
                    .setHeader("Docker-Content-Digest", "sha256:abc")
                    .build();
              }
              return new MockResponse.Builder()
                  .code(401)
                  .setHeader(
                      "WWW-Authenticate",
                      "Bearer realm=\"http://127.0.0.1:"
                          + bearer.getPort()
                          + "/token\",service=\"test-registry\",scope=\"repository:group/app:pull\"")
                  .build();
            }
          });
      bearer.start();
      String host = "127.0.0.1:" + bearer.getPort();
      client.secrets().inNamespace(NS).withName(SECRET).delete();
      createSecret(host);

      BuildResult result = builds.build(request(host + "/group/app:" + SHA));

      assertThat(result.skipped()).isTrue();
      assertThat(seen).hasSize(3);
      assertThat(seen.get(0).getMethod()).isEqualTo("HEAD");
      assertThat(seen.get(0).getUrl().encodedPath()).isEqualTo("/v2/group/app/manifests/" + SHA);
      assertThat(seen.get(0).getHeaders().get("Accept"))
          .contains("application/vnd.oci.image.index.v1+json")
          .contains("application/vnd.docker.distribution.manifest.v2+json");
      assertThat(seen.get(1).getUrl().queryParameter("service")).isEqualTo("test-registry");
      assertThat(seen.get(1).getUrl().queryParameter("scope"))
          .isEqualTo("repository:group/app:pull");
      assertThat(seen.get(2).getHeaders().get("Authorization")).isEqualTo("Bearer t0k3n-123456");
    }
  }

  @Test
  void aRegistryThatCannotAnswerDoesNotStopTheBuild() throws Exception {
    try (MockWebServer broken = new MockWebServer()) {
      broken.setDispatcher(
          new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest r) {
              return new MockResponse.Builder().code(503).build();
            }
          });
      broken.start();
      String dest = "127.0.0.1:" + broken.getPort() + "/group/app:" + SHA;
      AtomicReference<Job> created = new AtomicReference<>();
      time.onSleep(
          () -> {
            created.set(job());
            succeed();
          });

      BuildResult result = builds.build(request(dest));

      assertThat(result).isEqualTo(new BuildResult(dest, false));
      assertThat(created.get()).isNotNull();
      assertThat(broken.getRequestCount()).isEqualTo(1);
    }
  }

  @Test
  void aMissingCredentialsSecretFailsTheBuildForGood() {
    client.secrets().inNamespace(NS).withName(SECRET).delete();

    ApplicationFailure f = applicationFailure(catchThrowable(() -> builds.build(request())));

    assertThat(f.getType()).isEqualTo(FailureType.BuildFailed.name());
    assertThat(f.getOriginalMessage()).contains(SECRET).contains(NS);
    assertThat(job()).isNull();
  }

  // ---- deleteBuild and validation ----

  @Test
  void deleteBuildOfNothingIsSuccess() {
    client.secrets().inNamespace(NS).withName(SECRET).delete();

    builds.deleteBuild(request());
    builds.deleteBuild(
        new BuildRequest(
            WORKFLOW_ID, 42, "group/app", SHA, "no-such-namespace", NAME, destination(), SECRET));

    assertThat(job()).isNull();
  }

  @Test
  void deleteBuildRemovesWhatABuildLeft() {
    catchThrowable(() -> builds.build(request())); // BuildPending: the Job stays
    assertThat(job()).isNotNull();
    client.pods().inNamespace(NS).resource(pod(NAME + "-abcde", 0)).create();

    builds.deleteBuild(request());

    assertThat(job()).isNull();
    assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
    assertThat(client.secrets().inNamespace(NS).withName(SECRET).get()).isNull();
  }

  @Test
  void badRequestsAreRefusedForGood() {
    List<BuildRequest> bad =
        List.of(
            new BuildRequest(
                WORKFLOW_ID, 42, "group/app", "not-a-sha", NS, NAME, destination(), SECRET),
            new BuildRequest(WORKFLOW_ID, 42, "group/../x", SHA, NS, NAME, destination(), SECRET),
            new BuildRequest(WORKFLOW_ID, 42, "group/app#x", SHA, NS, NAME, destination(), SECRET),
            new BuildRequest(
                WORKFLOW_ID, 42, "group/app", SHA, "Bad_NS", NAME, destination(), SECRET),
            new BuildRequest(
                WORKFLOW_ID, 42, "group/app", SHA, NS, NAME, "registry.example.com/app", SECRET),
            new BuildRequest(WORKFLOW_ID, 42, "group/app", SHA, NS, NAME, destination(), null));
    for (BuildRequest r : bad) {
      ApplicationFailure f = applicationFailure(catchThrowable(() -> builds.build(r)));
      assertThat(f.getType()).as(r.toString()).isEqualTo(FailureType.InvalidName.name());
      assertThat(f.isNonRetryable()).isTrue();
    }
    assertThat(job()).isNull();
  }

  // ---- helpers ----

  BuildProperties props(BuildProperties base) {
    return base.withDefaultGitUrl(URI.create("https://gitlab.example.com"))
        .withRegistryScheme("http");
  }

  BuildActivities stub(BuildProperties p) {
    if (env != null) {
      env.close();
    }
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(
        new KanikoBuilder(
            client, p, new KanikoJobSpec(p), new RegistryTagCheck(p.registry()), time, time));
    env.setActivityHeartbeatListener(String.class, heartbeats::add);
    return env.newActivityStub(BuildActivities.class);
  }

  String destination() {
    return registry.host() + "/group/app:" + SHA;
  }

  BuildRequest request() {
    return request(destination());
  }

  BuildRequest request(String destination) {
    return new BuildRequest(WORKFLOW_ID, 42, "group/app", SHA, NS, NAME, destination, SECRET);
  }

  void createSecret(String registryHost) {
    String auth =
        Base64.getEncoder()
            .encodeToString(
                (REGISTRY_USER + ":" + REGISTRY_PASSWORD).getBytes(StandardCharsets.UTF_8));
    String dockerConfig = "{\"auths\":{\"" + registryHost + "\":{\"auth\":\"" + auth + "\"}}}";
    client
        .secrets()
        .inNamespace(NS)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(SECRET)
                .withLabels(
                    Map.of(Labels.MANAGED_BY, "ephemera", Labels.WORKFLOW_ID, WORKFLOW_LABEL))
                .endMetadata()
                .addToData(SecretKeys.DOCKER_CONFIG, b64(dockerConfig))
                .addToData(SecretKeys.GIT_USERNAME, b64("gitlab-ci-token"))
                .addToData(SecretKeys.GIT_PASSWORD, b64(GIT_PASSWORD))
                .build())
        .create();
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  Job job() {
    return client.batch().v1().jobs().inNamespace(NS).withName(NAME).get();
  }

  /** Plays Job controller and kubelet: a pod that ran, and a Job that says it succeeded. */
  void succeed() {
    client.pods().inNamespace(NS).resource(pod(NAME + "-s8c3d", 0)).create();
    Job j = job();
    j.setStatus(
        new JobStatusBuilder()
            .withSucceeded(1)
            .withConditions(
                new JobConditionBuilder().withType("Complete").withStatus("True").build())
            .build());
    client.batch().v1().jobs().inNamespace(NS).resource(j).updateStatus();
  }

  void fail(String podName) {
    client.pods().inNamespace(NS).resource(pod(podName, 2)).create();
    Job j = job();
    j.setStatus(
        new JobStatusBuilder()
            .withFailed(1)
            .withConditions(
                new JobConditionBuilder()
                    .withType("Failed")
                    .withStatus("True")
                    .withReason("BackoffLimitExceeded")
                    .withMessage("Job has reached the specified backoff limit")
                    .build())
            .build());
    client.batch().v1().jobs().inNamespace(NS).resource(j).updateStatus();
  }

  Pod pod(String name, int exitCode) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(NS)
        .withLabels(
            Map.of(
                BuildLabels.BUILD,
                NAME,
                Labels.WORKFLOW_ID,
                WORKFLOW_LABEL,
                "batch.kubernetes.io/job-name",
                NAME))
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("kaniko")
        .withImage(BuildProperties.DEFAULT_EXECUTOR_IMAGE)
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase(exitCode == 0 ? "Succeeded" : "Failed")
        .addNewContainerStatus()
        .withName("kaniko")
        .withNewState()
        .withNewTerminated()
        .withExitCode(exitCode)
        .withReason(exitCode == 0 ? "Completed" : "Error")
        .endTerminated()
        .endState()
        .endContainerStatus()
        .endStatus()
        .build();
  }

  static void pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static ApplicationFailure applicationFailure(Throwable t) {
    assertThat(t).isInstanceOf(ActivityFailure.class);
    assertThat(t.getCause()).isInstanceOf(ApplicationFailure.class);
    return (ApplicationFailure) t.getCause();
  }
}
