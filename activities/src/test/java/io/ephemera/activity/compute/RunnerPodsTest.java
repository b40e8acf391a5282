package io.ephemera.activity.compute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.ephemera.activity.config.RunnerProperties;
import io.ephemera.common.FailureType;
import io.ephemera.common.Labels;
import io.ephemera.runner.RunnerRoute;
import io.ephemera.runner.RunnerType;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Runner pods against Fabric8's mock API server in CRUD mode, through {@link ComputeActivitiesImpl}
 * in a real activity context. The mock runs nothing: pods never start, and tests delete pods
 * themselves to play the kubelet.
 */
@EnableKubernetesMockClient(crud = true, https = false)
class RunnerPodsTest {
  static final String WORKFLOW_ID = "runner/42/job-7";
  static final String WORKFLOW_LABEL = "runner.42.job-7";
  static final String NS = "ephemera-runners";
  static final String POD = "runner-42-job-7";
  static final String TOKEN = "glrt-t0ps3cret-runner-token";
  static final URI GITLAB = URI.create("https://gitlab.example.com");
  static final RunnerProperties RUNNERS =
      new RunnerProperties(
          20,
          Duration.ofMinutes(10),
          Duration.ofHours(3),
          Duration.ofSeconds(30),
          Duration.ofMinutes(5),
          3600);

  KubernetesMockServer server;
  KubernetesClient client;

  final InMemoryRunnerTokenStore tokens = new InMemoryRunnerTokenStore();
  final List<String> heartbeats = new CopyOnWriteArrayList<>();
  TestActivityEnvironment env;
  FakeTime time;
  ComputeActivities activities;
  String tokenRef;

  @BeforeEach
  void setUp() {
    tokenRef = tokens.put(WORKFLOW_ID, 99, TOKEN);
    time = new FakeTime(Instant.parse("2030-01-01T00:00:00Z"));
    env = TestActivityEnvironment.newInstance();
    RunnerPods pods =
        new RunnerPods(client, RunnerPodProperties.defaults(), tokens, RUNNERS, GITLAB, time, time);
    env.registerActivitiesImplementations(new ComputeActivitiesImpl(pods, null));
    env.setActivityHeartbeatListener(String.class, heartbeats::add);
    activities = env.newActivityStub(ComputeActivities.class);
  }

  @AfterEach
  void tearDown() {
    env.close();
  }

  @Test
  void provisionStartsAPodThatRunsOneJobAndReadsItsTokenFromASecret() {
    ComputeRef ref = activities.provision(request(route("2", "4Gi", "registry.example.com/r:1")));

    assertThat(ref).isEqualTo(new ComputeRef(RunnerType.KUBERNETES, NS + "/" + POD));
    Pod pod = client.pods().inNamespace(NS).withName(POD).get();
    assertThat(pod.getMetadata().getLabels())
        .containsEntry(Labels.MANAGED_BY, "ephemera")
        .containsEntry(Labels.WORKFLOW_ID, WORKFLOW_LABEL)
        .containsEntry(Labels.KIND, "runner")
        .containsEntry(Labels.JOB_ID, "7")
        .containsEntry(Labels.PROJECT_ID, "42");
    assertThat(pod.getMetadata().getAnnotations())
        .containsEntry(Labels.WORKFLOW_ID_ANNOTATION, WORKFLOW_ID)
        .containsEntry("ephemera.io/runner-id", "99");
    assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getSpec().getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getSpec().getActiveDeadlineSeconds()).isEqualTo(2 * 3600L);
    assertThat(pod.getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSpec().getSecurityContext().getRunAsUser()).isEqualTo(1000L);
    assertThat(pod.getSpec().getSecurityContext().getSeccompProfile().getType())
        .isEqualTo("RuntimeDefault");

    Container c = pod.getSpec().getContainers().getFirst();
    assertThat(c.getImage()).isEqualTo("registry.example.com/r:1");
    assertThat(c.getCommand())
        .containsExactly(
            "gitlab-runner",
            "run-single",
            "--url",
            "https://gitlab.example.com",
            "--executor",
            "shell",
            "--max-builds",
            "1",
            "--wait-timeout",
            "600",
            "--builds-dir",
            "/home/ephemera/builds",
            "--cache-dir",
            "/home/ephemera/cache");
    assertThat(c.getArgs()).isNullOrEmpty();
    EnvVar tokenEnv =
        c.getEnv().stream().filter(e -> e.getName().equals("CI_SERVER_TOKEN")).findFirst().get();
    assertThat(tokenEnv.getValue()).isNull();
    assertThat(tokenEnv.getValueFrom().getSecretKeyRef().getName()).isEqualTo(POD + "-token");
    assertThat(tokenEnv.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("token");
    assertThat(c.getResources().getRequests())
        .containsEntry("cpu", new Quantity("2"))
        .containsEntry("memory", new Quantity("4Gi"));
    assertThat(c.getResources().getLimits()).isEqualTo(c.getResources().getRequests());
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");

    // The token is in the Secret, and nowhere in the pod.
    assertThat(client.getKubernetesSerialization().asJson(pod)).doesNotContain(TOKEN);
    Secret secret = client.secrets().inNamespace(NS).withName(POD + "-token").get();
    assertThat(decode(secret.getData().get("token"))).isEqualTo(TOKEN);
    assertThat(secret.getMetadata().getLabels())
        .containsEntry(Labels.MANAGED_BY, "ephemera")
        .containsEntry(Labels.WORKFLOW_ID, WORKFLOW_LABEL);
    assertThat(secret.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.getKind()).isEqualTo("Pod");
              assertThat(o.getName()).isEqualTo(POD);
              assertThat(o.getUid()).isEqualTo(pod.getMetadata().getUid());
            });
  }

  @Test
  void provisionUsesTheConfiguredDefaultsWhenTheRouteNamesNone() {
    activities.provision(request(route(null, null, null)));

    Pod pod = client.pods().inNamespace(NS).withName(POD).get();
    Container c = pod.getSpec().getContainers().getFirst();
    assertThat(c.getImage()).isEqualTo("gitlab/gitlab-runner:alpine-v17.11.0");
    assertThat(c.getResources().getLimits())
        .containsEntry("cpu", new Quantity("1"))
        .containsEntry("memory", new Quantity("2Gi"));
    assertThat(pod.getSpec().getActiveDeadlineSeconds()).isEqualTo(3 * 3600L);
  }

  @Test
  void provisionCreatesTheRunnersNamespaceLabelledAsOurs() {
    activities.provision(request(route(null, null, null)));

    Namespace ns = client.namespaces().withName(NS).get();
    assertThat(ns.getMetadata().getLabels()).containsEntry(Labels.MANAGED_BY, "ephemera");
  }

  @Test
  void provisioningTwiceStartsOnePod() {
    ComputeRef first = activities.provision(request(route(null, null, null)));
    ComputeRef second = activities.provision(request(route(null, null, null)));

    assertThat(second).isEqualTo(first);
    assertThat(client.pods().inNamespace(NS).list().getItems()).hasSize(1);
    assertThat(client.secrets().inNamespace(NS).list().getItems()).hasSize(1);
  }

  @Test
  void aSecretLeftByAnEarlierAttemptGetsTheCurrentToken() {
    activities.provision(request(route(null, null, null)));
    client.pods().inNamespace(NS).withName(POD).delete();
    tokens.put(WORKFLOW_ID, 100, "glrt-new-token");

    activities.provision(request(route(null, null, null)));

    Secret secret = client.secrets().inNamespace(NS).withName(POD + "-token").get();
    assertThat(decode(secret.getData().get("token"))).isEqualTo("glrt-new-token");
  }

  @Test
  void terminateDeletesThePodAndItsTokenSecretAndLeavesOtherWorkflowsAlone() {
    activities.provision(request(route(null, null, null)));
    String otherRef = tokens.put("runner/42/job-8", 98, "glrt-other");
    activities.provision(
        new ProvisionRequest("runner/42/job-8", 42, 8, route(null, null, null), 98, otherRef, 600));

    activities.terminate(new TerminateRequest(WORKFLOW_ID, RunnerType.KUBERNETES));

    assertThat(client.pods().inNamespace(NS).withName(POD).get()).isNull();
    assertThat(client.secrets().inNamespace(NS).withName(POD + "-token").get()).isNull();
    assertThat(client.pods().inNamespace(NS).withName("runner-42-job-8").get()).isNotNull();
    assertThat(client.secrets().inNamespace(NS).withName("runner-42-job-8-token").get())
        .isNotNull();
  }

  @Test
  void terminatingTwiceOrWithNothingThereSucceeds() {
    activities.terminate(new TerminateRequest(WORKFLOW_ID, RunnerType.KUBERNETES));
    activities.provision(request(route(null, null, null)));

    activities.terminate(new TerminateRequest(WORKFLOW_ID, RunnerType.KUBERNETES));
    activities.terminate(new TerminateRequest(WORKFLOW_ID, RunnerType.KUBERNETES));

    assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
  }

  @Test
  void awaitTerminatedAnswersTrueOnceThePodsAreGoneAndHeartbeatsMeanwhile() {
    activities.provision(request(route(null, null, null)));
    // The pod is still "terminating" for two polls, then the kubelet has removed it.
    time.onSleep(() -> {});
    time.onSleep(() -> client.pods().inNamespace(NS).withName(POD).delete());

    boolean gone =
        activities.awaitTerminated(new TerminateRequest(WORKFLOW_ID, RunnerType.KUBERNETES));

    assertThat(gone).isTrue();
    assertThat(time.sleeps()).isEqualTo(2);
    assertThat(heartbeats).isNotEmpty().allMatch(h -> h.startsWith(POD));
  }

  @Test
  void awaitTerminatedAnswersFalseWhenThePodOutlivesTheBudget() {
    activities.provision(request(route(null, null, null)));

    boolean gone =
        activities.awaitTerminated(new TerminateRequest(WORKFLOW_ID, RunnerType.KUBERNETES));

    assertThat(gone).isFalse();
    assertThat(time.elapsed()).isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void provisionWithoutAStoredTokenFailsForGoodAndStartsNothing() {
    tokens.delete(WORKFLOW_ID);

    ApplicationFailure f = failure(() -> activities.provision(request(route(null, null, null))));

    assertThat(f.getType()).isEqualTo(FailureType.RunnerTokenMissing.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
  }

  @Test
  void aRouteWithAnInvalidQuantityFailsForGood() {
    ApplicationFailure f = failure(() -> activities.provision(request(route("lots", null, null))));

    assertThat(f.getType()).isEqualTo(FailureType.KubernetesInvalid.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).contains("lots");
  }

  @Test
  void aPodOfAnEarlierRunStillTerminatingIsWaitedFor() {
    // A finalizer keeps a deleted pod around, terminating, as a kubelet's grace period would.
    client
        .pods()
        .inNamespace(NS)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(POD)
                .withNamespace(NS)
                .addToLabels(Labels.MANAGED_BY, "ephemera")
                .addToLabels(Labels.WORKFLOW_ID, WORKFLOW_LABEL)
                .addToFinalizers("example.com/hold")
                .endMetadata()
                .build())
        .create();
    client.pods().inNamespace(NS).withName(POD).delete();
    assertThat(
            client.pods().inNamespace(NS).withName(POD).get().getMetadata().getDeletionTimestamp())
        .isNotNull();

    ApplicationFailure f = failure(() -> activities.provision(request(route(null, null, null))));

    assertThat(f.getType()).isEqualTo(FailureType.KubernetesUnavailable.name());
    assertThat(f.isNonRetryable()).isFalse();
    assertThat(f.getOriginalMessage()).contains("still terminating");
  }

  @Test
  void aForeignPodUnderTheRunnersNameIsNeverTakenOver() {
    client
        .pods()
        .inNamespace(NS)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(POD)
                .withNamespace(NS)
                .addToLabels("app", "someone-elses")
                .endMetadata()
                .build())
        .create();

    ApplicationFailure f = failure(() -> activities.provision(request(route(null, null, null))));

    assertThat(f.getType()).isEqualTo(FailureType.InvalidName.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(client.pods().inNamespace(NS).withName(POD).get().getMetadata().getLabels())
        .containsOnlyKeys("app");
    // terminate leaves it alone too: it selects by our labels only.
    activities.terminate(new TerminateRequest(WORKFLOW_ID, RunnerType.KUBERNETES));
    assertThat(client.pods().inNamespace(NS).withName(POD).get()).isNotNull();
  }

  @Test
  void ec2RunnersOnAWorkerWithoutThemAreRefusedButTheirTerminateSucceeds() {
    RunnerRoute ec2 =
        new RunnerRoute(
            "big", RunnerType.EC2, null, null, "c7i.large", null, "ami-0123456789abcdef0", null);

    ApplicationFailure f = failure(() -> activities.provision(request(ec2)));
    activities.terminate(new TerminateRequest(WORKFLOW_ID, RunnerType.EC2));

    assertThat(f.getType()).isEqualTo(FailureType.CloudInvalid.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(activities.awaitTerminated(new TerminateRequest(WORKFLOW_ID, RunnerType.EC2)))
        .isTrue();
  }

  @Test
  void noFailureMessageOrHeartbeatCarriesTheToken() {
    activities.provision(request(route(null, null, null)));
    time.onSleep(() -> client.pods().inNamespace(NS).withName(POD).delete());
    activities.awaitTerminated(new TerminateRequest(WORKFLOW_ID, RunnerType.KUBERNETES));
    ApplicationFailure f = failure(() -> activities.provision(request(route("-1", null, null))));

    assertThat(heartbeats).noneMatch(h -> h.contains(TOKEN));
    assertThat(f.getOriginalMessage()).doesNotContain(TOKEN);
  }

  // ---- helpers ----

  ProvisionRequest request(RunnerRoute route) {
    return new ProvisionRequest(WORKFLOW_ID, 42, 7, route, 99, tokenRef, 600);
  }

  static RunnerRoute route(String cpu, String memory, String image) {
    return new RunnerRoute(
        "default",
        RunnerType.KUBERNETES,
        cpu,
        memory,
        null,
        image,
        null,
        cpu == null ? null : Duration.ofHours(2));
  }

  static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }

  static ApplicationFailure failure(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(ActivityFailure.class);
    assertThat(thrown.getCause()).isInstanceOf(ApplicationFailure.class);
    return (ApplicationFailure) thrown.getCause();
  }
}
