package io.ephemera.activity.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.ephemera.common.FailureType;
import io.ephemera.common.Labels;
import io.fabric8.kubernetes.api.model.LimitRange;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The adapter against Fabric8's mock API server in CRUD mode, run inside a real activity context.
 * The mock has no controllers, so tests write Deployment statuses themselves, and they do it
 * "during" a wait through {@link FakeTime#onSleep}, which also makes minutes of budget instant.
 */
// Plain HTTP: a self-signed certificate per test costs ~200 ms, and TLS is not under test.
@EnableKubernetesMockClient(crud = true, https = false)
class KubernetesActivitiesImplTest {
  static final String NS = "review-42-mr-7-group-app";
  static final String WORKFLOW_ID = "review-app/42/mr-7";
  static final String WORKFLOW_LABEL = "review-app.42.mr-7";
  static final String SHA1 = "0123456789abcdef0123456789abcdef01234567";
  static final String SHA2 = "89abcdef0123456789abcdef0123456789abcdef";
  static final String HOST = "mr-7.review.example.com";
  static final NamespaceSpec NAMESPACE = new NamespaceSpec(NS, WORKFLOW_ID, 42, 7);

  KubernetesMockServer server;
  KubernetesClient client;

  TestActivityEnvironment env;
  FakeTime time;
  KubernetesActivities activities;
  final List<String> heartbeats = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() {
    useProperties(KubernetesProperties.defaults());
  }

  @AfterEach
  void tearDown() {
    env.close();
  }

  void useProperties(KubernetesProperties props) {
    if (env != null) {
      env.close();
    }
    time = new FakeTime(Instant.parse("2030-01-01T00:00:00Z"));
    env = TestActivityEnvironment.newInstance();
    env.registerActivitiesImplementations(new KubernetesActivitiesImpl(client, props, time, time));
    env.setActivityHeartbeatListener(String.class, heartbeats::add);
    activities = env.newActivityStub(KubernetesActivities.class);
  }

  // ---- ensureNamespace ----

  @Test
  void ensureNamespaceCreatesQuotaLimitsAndNetworkPolicies() {
    List<String> objects = activities.ensureNamespace(NAMESPACE);

    assertThat(objects)
        .containsExactly(
            "Namespace/" + NS,
            "ResourceQuota/" + NS + "/ephemera-quota",
            "LimitRange/" + NS + "/ephemera-limits",
            "NetworkPolicy/" + NS + "/default-deny",
            "NetworkPolicy/" + NS + "/allow-from-ingress");

    Namespace ns = client.namespaces().withName(NS).get();
    assertThat(ns.getMetadata().getLabels())
        .containsEntry(Labels.MANAGED_BY, "ephemera")
        .containsEntry(Labels.WORKFLOW_ID, WORKFLOW_LABEL)
        .containsEntry(Labels.KIND, "review-app")
        .containsEntry(Labels.PROJECT_ID, "42")
        .containsEntry(Labels.MR_IID, "7");
    assertThat(ns.getMetadata().getAnnotations())
        .containsEntry(Labels.WORKFLOW_ID_ANNOTATION, WORKFLOW_ID);

    ResourceQuota quota = client.resourceQuotas().inNamespace(NS).withName("ephemera-quota").get();
    assertOwned(quota.getMetadata().getLabels());
    assertThat(quota.getSpec().getHard())
        .containsEntry("requests.cpu", new Quantity("2"))
        .containsEntry("requests.memory", new Quantity("4Gi"))
        .containsEntry("limits.cpu", new Quantity("4"))
        .containsEntry("limits.memory", new Quantity("8Gi"))
        .containsEntry("pods", new Quantity("20"));

    LimitRange limits = client.limitRanges().inNamespace(NS).withName("ephemera-limits").get();
    assertOwned(limits.getMetadata().getLabels());
    assertThat(limits.getSpec().getLimits())
        .singleElement()
        .satisfies(
            l -> {
              assertThat(l.getType()).isEqualTo("Container");
              assertThat(l.getDefaultRequest())
                  .containsEntry("cpu", new Quantity("100m"))
                  .containsEntry("memory", new Quantity("128Mi"));
              assertThat(l.getDefault())
                  .containsEntry("cpu", new Quantity("500m"))
                  .containsEntry("memory", new Quantity("512Mi"));
            });

    NetworkPolicy deny =
        client.network().v1().networkPolicies().inNamespace(NS).withName("default-deny").get();
    assertOwned(deny.getMetadata().getLabels());
    assertThat(deny.getSpec().getPodSelector().getMatchLabels()).isNullOrEmpty();
    assertThat(deny.getSpec().getPolicyTypes()).containsExactly("Ingress");
    assertThat(deny.getSpec().getIngress()).isNullOrEmpty();

    NetworkPolicy allow =
        client
            .network()
            .v1()
            .networkPolicies()
            .inNamespace(NS)
            .withName("allow-from-ingress")
            .get();
    assertOwned(allow.getMetadata().getLabels());
    assertThat(allow.getSpec().getPolicyTypes()).containsExactly("Ingress");
    assertThat(allow.getSpec().getIngress())
        .singleElement()
        .satisfies(
            rule ->
                assertThat(rule.getFrom())
                    .singleElement()
                    .satisfies(
                        peer ->
                            assertThat(peer.getNamespaceSelector().getMatchLabels())
                                .containsExactly(
                                    Map.entry("kubernetes.io/metadata.name", "ingress-nginx"))));
  }

  @Test
  void ensureNamespaceTwiceIsIdempotent() {
    List<String> first = activities.ensureNamespace(NAMESPACE);
    String quotaUid = quotaUid();

    List<String> second = activities.ensureNamespace(NAMESPACE);

    assertThat(second).isEqualTo(first);
    assertThat(quotaUid()).isEqualTo(quotaUid);
    assertThat(client.namespaces().list().getItems()).hasSize(1);
    assertThat(client.network().v1().networkPolicies().inNamespace(NS).list().getItems())
        .hasSize(2);
  }

  @Test
  void updatesKeepWhatOthersAddedToTheObjects() {
    activities.ensureNamespace(NAMESPACE);
    activities.applyWorkload(workload(SHA1));
    client
        .network()
        .v1()
        .ingresses()
        .inNamespace(NS)
        .withName("app")
        .edit(
            i -> {
              i.getMetadata().getFinalizers().add("ingress.k8s.aws/resources");
              i.getMetadata().getAnnotations().put("team.example.com/owner", "web");
              return i;
            });
    client
        .namespaces()
        .withName(NS)
        .edit(
            n -> {
              n.getMetadata().getLabels().put("team.example.com/cost-center", "ci");
              return n;
            });

    activities.ensureNamespace(NAMESPACE);
    activities.applyWorkload(workload(SHA2));

    Ingress ingress = client.network().v1().ingresses().inNamespace(NS).withName("app").get();
    assertThat(ingress.getMetadata().getFinalizers()).contains("ingress.k8s.aws/resources");
    assertThat(ingress.getMetadata().getAnnotations())
        .containsEntry("team.example.com/owner", "web")
        .containsEntry(Labels.WORKFLOW_ID_ANNOTATION, WORKFLOW_ID);
    assertThat(client.namespaces().withName(NS).get().getMetadata().getLabels())
        .containsEntry("team.example.com/cost-center", "ci")
        .containsEntry(Labels.MANAGED_BY, "ephemera");
  }

  @Test
  void ensureNamespaceRefusesANamespaceItDoesNotManage() {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .create();

    ApplicationFailure f = failure(() -> activities.ensureNamespace(NAMESPACE));

    assertThat(f.getType()).isEqualTo(FailureType.InvalidName.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).contains(NS, "not managed by Ephemera");
    assertThat(client.resourceQuotas().inNamespace(NS).list().getItems()).isEmpty();
  }

  @Test
  void ensureNamespaceRefusesANamespaceOfAnotherWorkflow() {
    activities.ensureNamespace(new NamespaceSpec(NS, "review-app/99/mr-1", 99, 1));

    ApplicationFailure f = failure(() -> activities.ensureNamespace(NAMESPACE));

    assertThat(f.getType()).isEqualTo(FailureType.InvalidName.name());
    assertThat(f.getOriginalMessage()).contains("review-app/99/mr-1");
  }

  @Test
  void ensureNamespaceRetriesWhileTheNamespaceIsStillTerminating() {
    activities.ensureNamespace(NAMESPACE);
    holdInTerminating(NS);

    ApplicationFailure f = failure(() -> activities.ensureNamespace(NAMESPACE));

    assertThat(f.getType()).isEqualTo(FailureType.KubernetesUnavailable.name());
    assertThat(f.isNonRetryable()).isFalse();
    assertThat(f.getOriginalMessage()).contains(NS, "terminating");
  }

  @Test
  void ensureNamespaceRejectsANameThatIsNotADns1123Label() {
    ApplicationFailure f =
        failure(
            () -> activities.ensureNamespace(new NamespaceSpec("Review_42", WORKFLOW_ID, 42, 7)));

    assertThat(f.getType()).isEqualTo(FailureType.InvalidName.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(client.namespaces().list().getItems()).isEmpty();
  }

  // ---- applyWorkload ----

  @Test
  void applyWorkloadCreatesDeploymentServiceAndIngress() {
    activities.ensureNamespace(NAMESPACE);

    List<String> objects = activities.applyWorkload(workload(SHA1));

    assertThat(objects)
        .containsExactly(
            "Deployment/" + NS + "/app", "Service/" + NS + "/app", "Ingress/" + NS + "/app");

    Deployment d = deployment();
    assertOwned(d.getMetadata().getLabels());
    assertThat(d.getMetadata().getLabels()).containsEntry(Labels.SHA, SHA1);
    assertThat(d.getSpec().getReplicas()).isEqualTo(1);
    assertThat(d.getSpec().getSelector().getMatchLabels())
        .containsExactly(Map.entry("app.kubernetes.io/name", "app"));
    assertThat(d.getSpec().getTemplate().getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/name", "app")
        .containsEntry(Labels.SHA, SHA1)
        .containsEntry(Labels.MANAGED_BY, "ephemera");
    assertThat(d.getSpec().getTemplate().getSpec().getContainers())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getName()).isEqualTo("app");
              assertThat(c.getImage()).isEqualTo(image(SHA1));
              assertThat(c.getPorts())
                  .singleElement()
                  .satisfies(p -> assertThat(p.getContainerPort()).isEqualTo(8080));
              assertThat(c.getResources() == null || c.getResources().getLimits() == null)
                  .as("resources come from the LimitRange")
                  .isTrue();
            });

    Service svc = client.services().inNamespace(NS).withName("app").get();
    assertOwned(svc.getMetadata().getLabels());
    assertThat(svc.getSpec().getSelector())
        .containsExactly(Map.entry("app.kubernetes.io/name", "app"));
    assertThat(svc.getSpec().getPorts())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getPort()).isEqualTo(80);
              assertThat(p.getTargetPort().getStrVal()).isEqualTo("http");
            });

    Ingress ingress = client.network().v1().ingresses().inNamespace(NS).withName("app").get();
    assertOwned(ingress.getMetadata().getLabels());
    assertThat(ingress.getSpec().getIngressClassName()).isEqualTo("nginx");
    assertThat(ingress.getSpec().getRules())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.getHost()).isEqualTo(HOST);
              assertThat(r.getHttp().getPaths())
                  .singleElement()
                  .satisfies(
                      p -> {
                        assertThat(p.getPath()).isEqualTo("/");
                        assertThat(p.getPathType()).isEqualTo("Prefix");
                        assertThat(p.getBackend().getService().getName()).isEqualTo("app");
                        assertThat(p.getBackend().getService().getPort().getNumber()).isEqualTo(80);
                      });
            });
    assertThat(ingress.getSpec().getTls())
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.getHosts()).containsExactly(HOST);
              assertThat(t.getSecretName()).isEqualTo("review-apps-tls");
            });
    assertThat(ingress.getMetadata().getAnnotations())
        .doesNotContainKey("cert-manager.io/cluster-issuer");
  }

  @Test
  void applyWorkloadWithANewShaUpdatesTheDeploymentImage() {
    activities.ensureNamespace(NAMESPACE);
    activities.applyWorkload(workload(SHA1));
    String uid = deployment().getMetadata().getUid();

    activities.applyWorkload(workload(SHA2));

    Deployment d = deployment();
    assertThat(d.getMetadata().getUid()).isEqualTo(uid);
    assertThat(d.getMetadata().getGeneration()).isEqualTo(2L);
    assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).containsEntry(Labels.SHA, SHA2);
    assertThat(d.getSpec().getTemplate().getSpec().getContainers())
        .singleElement()
        .satisfies(c -> assertThat(c.getImage()).isEqualTo(image(SHA2)));
  }

  @Test
  void applyWorkloadAsksCertManagerForACertificateWhenAClusterIssuerIsSet() {
    useProperties(
        new KubernetesProperties(
            false,
            null,
            "traefik",
            new KubernetesProperties.Tls(true, "app-tls", "letsencrypt"),
            0,
            0,
            null,
            null,
            null,
            null,
            null,
            null));
    activities.ensureNamespace(NAMESPACE);

    activities.applyWorkload(workload(SHA1));

    Ingress ingress = client.network().v1().ingresses().inNamespace(NS).withName("app").get();
    assertThat(ingress.getSpec().getIngressClassName()).isEqualTo("traefik");
    assertThat(ingress.getMetadata().getAnnotations())
        .containsEntry("cert-manager.io/cluster-issuer", "letsencrypt");
    assertThat(ingress.getSpec().getTls())
        .singleElement()
        .satisfies(t -> assertThat(t.getSecretName()).isEqualTo("app-tls"));
  }

  @Test
  void applyWorkloadServesPlainHttpWhenTlsIsDisabled() {
    useProperties(
        new KubernetesProperties(
            false,
            null,
            null,
            new KubernetesProperties.Tls(false, null, "letsencrypt"),
            0,
            0,
            null,
            null,
            null,
            null,
            null,
            null));
    activities.ensureNamespace(NAMESPACE);

    activities.applyWorkload(workload(SHA1));

    Ingress ingress = client.network().v1().ingresses().inNamespace(NS).withName("app").get();
    assertThat(ingress.getSpec().getTls()).isNullOrEmpty();
    assertThat(ingress.getMetadata().getAnnotations())
        .doesNotContainKey("cert-manager.io/cluster-issuer");
  }

  @Test
  void applyWorkloadWithoutItsNamespaceIsRetried() {
    ApplicationFailure f = failure(() -> activities.applyWorkload(workload(SHA1)));

    assertThat(f.getType()).isEqualTo(FailureType.KubernetesUnavailable.name());
    assertThat(f.isNonRetryable()).isFalse();
    assertThat(client.apps().deployments().inAnyNamespace().list().getItems()).isEmpty();
  }

  // ---- deletes ----

  @Test
  void deletesOfAbsentObjectsSucceed() {
    activities.deleteIngress(NS);
    activities.deleteWorkloads(NS);
    activities.deleteNamespace(NS);

    activities.ensureNamespace(NAMESPACE);
    activities.deleteIngress(NS);
    activities.deleteWorkloads(NS);
    activities.deleteNamespace(NS);
    activities.deleteNamespace(NS);

    assertThat(client.namespaces().withName(NS).get()).isNull();
  }

  @Test
  void deletesRemoveIngressWorkloadsAndNamespace() {
    activities.ensureNamespace(NAMESPACE);
    activities.applyWorkload(workload(SHA1));

    activities.deleteIngress(NS);
    assertThat(client.network().v1().ingresses().inNamespace(NS).withName("app").get()).isNull();
    assertThat(deployment()).isNotNull();

    activities.deleteWorkloads(NS);
    assertThat(deployment()).isNull();
    assertThat(client.services().inNamespace(NS).withName("app").get()).isNull();

    activities.deleteNamespace(NS);
    assertThat(client.namespaces().withName(NS).get()).isNull();
  }

  @Test
  void deletesLeaveANamespaceItDoesNotManageAlone() {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .create();
    client
        .services()
        .inNamespace(NS)
        .resource(
            new io.fabric8.kubernetes.api.model.ServiceBuilder()
                .withNewMetadata()
                .withName("app")
                .endMetadata()
                .build())
        .create();

    activities.deleteIngress(NS);
    activities.deleteWorkloads(NS);
    activities.deleteNamespace(NS);

    assertThat(client.namespaces().withName(NS).get()).isNotNull();
    assertThat(client.services().inNamespace(NS).withName("app").get()).isNotNull();
  }

  // ---- awaitRollout ----

  @Test
  void awaitRolloutSucceedsOnceTheDeploymentReportsReadyReplicas() {
    activities.ensureNamespace(NAMESPACE);
    activities.applyWorkload(workload(SHA1));
    time.onSleep(() -> reportStatus(status(1L, 1, 0)));
    time.onSleep(() -> reportStatus(status(1L, 1, 1)));

    RolloutResult result = activities.awaitRollout(new RolloutRequest(NS, SHA1));

    assertThat(result.readyReplicas()).isEqualTo(1);
    assertThat(time.sleeps()).isEqualTo(2);
    assertThat(time.elapsed())
        .as("polls start at 100 ms and double, so a quick rollout is seen quickly")
        .isEqualTo(Duration.ofMillis(100 + 200));
    assertThat(heartbeats).isNotEmpty();
    assertThat(heartbeats.get(0)).contains("observe generation 1");
  }

  @Test
  void awaitRolloutWaitsForTheControllerToObserveTheNewTemplate() {
    activities.ensureNamespace(NAMESPACE);
    activities.applyWorkload(workload(SHA1));
    reportStatus(status(1L, 1, 1));
    activities.applyWorkload(workload(SHA2));
    assertThat(deployment().getStatus().getReadyReplicas())
        .as("the update keeps the old status, as an API server does")
        .isEqualTo(1);

    ApplicationFailure f = failure(() -> activities.awaitRollout(new RolloutRequest(NS, SHA2)));

    assertThat(f.getType()).isEqualTo(FailureType.RolloutPending.name());
    assertThat(f.getOriginalMessage()).contains("generation 2");
  }

  @Test
  void awaitRolloutFailsForGoodOnProgressDeadlineExceeded() {
    activities.ensureNamespace(NAMESPACE);
    activities.applyWorkload(workload(SHA1));
    reportStatus(
        new DeploymentStatusBuilder(status(1L, 1, 0))
            .addNewCondition()
            .withType("Progressing")
            .withStatus("False")
            .withReason("ProgressDeadlineExceeded")
            .withMessage("ReplicaSet \"app-5d4f\" has timed out progressing.")
            .endCondition()
            .build());

    ApplicationFailure f = failure(() -> activities.awaitRollout(new RolloutRequest(NS, SHA1)));

    assertThat(f.getType()).isEqualTo(FailureType.RolloutFailed.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).contains(NS, "progress deadline exceeded");
    assertThat(time.sleeps()).isZero();
  }

  @Test
  void awaitRolloutFailsWithRolloutPendingAfterItsBudget() {
    useProperties(
        new KubernetesProperties(
            false,
            null,
            null,
            null,
            0,
            0,
            null,
            null,
            Duration.ofSeconds(2),
            Duration.ofMinutes(1),
            null,
            null));
    activities.ensureNamespace(NAMESPACE);
    activities.applyWorkload(workload(SHA1));
    reportStatus(status(1L, 1, 0));

    ApplicationFailure f = failure(() -> activities.awaitRollout(new RolloutRequest(NS, SHA1)));

    assertThat(f.getType()).isEqualTo(FailureType.RolloutPending.name());
    assertThat(f.isNonRetryable()).isFalse();
    assertThat(f.getOriginalMessage()).contains(NS, "ready 0/1");
    assertThat(f.getOriginalMessage()).contains("not finished after PT1M");
    assertThat(time.elapsed())
        .as("the last pause ends at the budget")
        .isEqualTo(Duration.ofMinutes(1));
    // 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s, then 2 s pauses, the last one cut to the budget.
    assertThat(time.sleeps()).isEqualTo(5 + 29);
  }

  @Test
  void awaitRolloutNamesWhyThePodsAreNotReady() {
    activities.ensureNamespace(NAMESPACE);
    activities.applyWorkload(workload(SHA1));
    createPod("ImagePullBackOff", "Back-off pulling image");

    ApplicationFailure f = failure(() -> activities.awaitRollout(new RolloutRequest(NS, SHA1)));

    assertThat(f.getType()).isEqualTo(FailureType.RolloutPending.name());
    assertThat(f.getOriginalMessage()).contains("ImagePullBackOff: Back-off pulling image");
  }

  @Test
  void awaitRolloutFailsAtOnceOnAnInvalidImageName() {
    activities.ensureNamespace(NAMESPACE);
    activities.applyWorkload(workload(SHA1));
    reportStatus(status(1L, 1, 0));
    createPod("InvalidImageName", "couldn't parse image reference");

    ApplicationFailure f = failure(() -> activities.awaitRollout(new RolloutRequest(NS, SHA1)));

    assertThat(f.getType()).isEqualTo(FailureType.RolloutFailed.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).contains("InvalidImageName");
  }

  @Test
  void awaitRolloutFailsForGoodWhenTheDeploymentIsMissing() {
    activities.ensureNamespace(NAMESPACE);

    ApplicationFailure f = failure(() -> activities.awaitRollout(new RolloutRequest(NS, SHA1)));

    assertThat(f.getType()).isEqualTo(FailureType.RolloutFailed.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage()).contains("does not exist");
  }

  @Test
  void awaitRolloutFailsForGoodWhenANewerShaReplacedTheTemplate() {
    activities.ensureNamespace(NAMESPACE);
    activities.applyWorkload(workload(SHA2));

    ApplicationFailure f = failure(() -> activities.awaitRollout(new RolloutRequest(NS, SHA1)));

    assertThat(f.getType()).isEqualTo(FailureType.RolloutFailed.name());
    assertThat(f.getOriginalMessage()).contains("now runs sha " + SHA2);
  }

  // ---- awaitNamespaceGone ----

  @Test
  void awaitNamespaceGoneAnswersGoneForADeletedNamespace() {
    activities.ensureNamespace(NAMESPACE);
    activities.deleteNamespace(NS);

    assertThat(activities.awaitNamespaceGone(NS)).isEqualTo(NamespaceState.goneNow());
  }

  @Test
  void awaitNamespaceGoneNoticesANamespaceThatGoesAwayWhileItWaits() {
    activities.ensureNamespace(NAMESPACE);
    String since = holdInTerminating(NS);
    time.onSleep(() -> {});
    time.onSleep(() -> releaseFinalizers(NS));

    NamespaceState state = activities.awaitNamespaceGone(NS);

    assertThat(state.gone()).isTrue();
    assertThat(time.sleeps()).isEqualTo(2);
    assertThat(heartbeats.get(0)).contains("terminating since " + since);
  }

  @Test
  void awaitNamespaceGoneReportsSinceWhenANamespaceIsTerminating() {
    activities.ensureNamespace(NAMESPACE);
    String since = holdInTerminating(NS);

    NamespaceState state = activities.awaitNamespaceGone(NS);

    assertThat(state.gone()).isFalse();
    assertThat(state.terminatingSince()).isEqualTo(Instant.parse(since));
    assertThat(time.elapsed()).isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void awaitNamespaceGoneAnswersAtOnceForANamespaceNobodyIsDeleting() {
    activities.ensureNamespace(NAMESPACE);

    NamespaceState state = activities.awaitNamespaceGone(NS);

    assertThat(state).isEqualTo(new NamespaceState(false, null));
    assertThat(time.sleeps()).isZero();
  }

  // ---- helpers ----

  static WorkloadSpec workload(String sha) {
    return new WorkloadSpec(NS, WORKFLOW_ID, sha, image(sha), HOST);
  }

  static String image(String sha) {
    return "registry.example.com/group/app:" + sha;
  }

  static void assertOwned(Map<String, String> labels) {
    assertThat(labels)
        .containsEntry(Labels.MANAGED_BY, "ephemera")
        .containsEntry(Labels.WORKFLOW_ID, WORKFLOW_LABEL);
  }

  static ApplicationFailure failure(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(ActivityFailure.class);
    assertThat(thrown.getCause()).isInstanceOf(ApplicationFailure.class);
    return (ApplicationFailure) thrown.getCause();
  }

  Deployment deployment() {
    return client.apps().deployments().inNamespace(NS).withName("app").get();
  }

  String quotaUid() {
    return client
        .resourceQuotas()
        .inNamespace(NS)
        .withName("ephemera-quota")
        .get()
        .getMetadata()
        .getUid();
  }

  static DeploymentStatus status(Long observedGeneration, int updated, int ready) {
    return new DeploymentStatusBuilder()
        .withObservedGeneration(observedGeneration)
        .withReplicas(updated)
        .withUpdatedReplicas(updated)
        .withReadyReplicas(ready)
        .withAvailableReplicas(ready)
        .build();
  }

  /** What the deployment controller would write; the mock has none. */
  void reportStatus(DeploymentStatus status) {
    Deployment d = deployment();
    d.setStatus(status);
    client.apps().deployments().inNamespace(NS).resource(d).updateStatus();
  }

  void createPod(String waitingReason, String message) {
    client
        .pods()
        .inNamespace(NS)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName("app-5d4f-x2x7q")
                .addToLabels("app.kubernetes.io/name", "app")
                .addToLabels(Labels.SHA, SHA1)
                .endMetadata()
                .withNewStatus()
                .addNewContainerStatus()
                .withName("app")
                .withNewState()
                .withNewWaiting()
                .withReason(waitingReason)
                .withMessage(message)
                .endWaiting()
                .endState()
                .endContainerStatus()
                .endStatus()
                .build())
        .create();
  }

  /**
   * Puts a finalizer on the namespace and deletes it: the CRUD mock then sets deletionTimestamp and
   * keeps it, as a cluster does while the namespace controller empties it.
   */
  String holdInTerminating(String ns) {
    client
        .namespaces()
        .withName(ns)
        .edit(
            n -> {
              n.getMetadata().getFinalizers().add("example.com/hold");
              return n;
            });
    client.namespaces().withName(ns).delete();
    String since = client.namespaces().withName(ns).get().getMetadata().getDeletionTimestamp();
    assertThat(since).isNotNull();
    return since;
  }

  void releaseFinalizers(String ns) {
    client
        .namespaces()
        .withName(ns)
        .edit(
            n -> {
              n.getMetadata().setFinalizers(List.of());
              return n;
            });
  }
}
