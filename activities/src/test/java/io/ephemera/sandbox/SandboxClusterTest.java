package io.ephemera.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ephemera.activity.kubernetes.KubernetesActivities;
import io.ephemera.activity.kubernetes.KubernetesActivitiesImpl;
import io.ephemera.activity.kubernetes.KubernetesProperties;
import io.ephemera.activity.kubernetes.NamespaceSpec;
import io.ephemera.activity.kubernetes.NamespaceState;
import io.ephemera.activity.kubernetes.RolloutRequest;
import io.ephemera.activity.kubernetes.WorkloadSpec;
import io.ephemera.common.Labels;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SandboxClusterTest {
  static final Duration ROLLOUT_DELAY = Duration.ofMillis(300);
  static final Duration PATIENCE = Duration.ofSeconds(10);

  SandboxCluster sandbox;
  KubernetesClient client;

  @BeforeEach
  void setUp() {
    sandbox = SandboxCluster.start(ROLLOUT_DELAY);
    client = sandbox.client();
  }

  @AfterEach
  void tearDown() {
    sandbox.close();
  }

  @Test
  void aCreatedDeploymentBecomesRolledOutAfterTheDelay() {
    createNamespace("team-a");
    long created = System.nanoTime();
    client
        .apps()
        .deployments()
        .inNamespace("team-a")
        .resource(deployment("web", "nginx:1"))
        .create();

    eventually(() -> assertThat(readyReplicas("team-a", "web")).isEqualTo(2));

    assertThat(Duration.ofNanos(System.nanoTime() - created)).isGreaterThanOrEqualTo(ROLLOUT_DELAY);
    Deployment d = client.apps().deployments().inNamespace("team-a").withName("web").get();
    assertThat(d.getStatus().getObservedGeneration()).isEqualTo(d.getMetadata().getGeneration());
    assertThat(d.getStatus().getUpdatedReplicas()).isEqualTo(2);
    assertThat(d.getStatus().getAvailableReplicas()).isEqualTo(2);
    assertThat(d.getStatus().getConditions())
        .anySatisfy(
            c -> {
              assertThat(c.getType()).isEqualTo("Available");
              assertThat(c.getStatus()).isEqualTo("True");
            });
  }

  @Test
  void anUpdatedDeploymentRollsOutAgainAfterTheDelay() {
    createNamespace("team-a");
    client
        .apps()
        .deployments()
        .inNamespace("team-a")
        .resource(deployment("web", "nginx:1"))
        .create();
    eventually(() -> assertThat(readyReplicas("team-a", "web")).isEqualTo(2));

    Deployment updated =
        client
            .apps()
            .deployments()
            .inNamespace("team-a")
            .withName("web")
            .edit(
                d -> {
                  d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage("nginx:2");
                  return d;
                });
    long generation = updated.getMetadata().getGeneration();
    assertThat(generation).isGreaterThan(1L);

    eventually(
        () ->
            assertThat(
                    client
                        .apps()
                        .deployments()
                        .inNamespace("team-a")
                        .withName("web")
                        .get()
                        .getStatus()
                        .getObservedGeneration())
                .isEqualTo(generation));
  }

  @Test
  void objectsOfADeletedNamespaceAreRemoved() {
    createNamespace("doomed");
    createNamespace("kept");
    client
        .apps()
        .deployments()
        .inNamespace("doomed")
        .resource(deployment("web", "nginx:1"))
        .create();
    client.configMaps().inNamespace("doomed").resource(configMap("settings")).create();
    client
        .secrets()
        .inNamespace("doomed")
        .resource(new SecretBuilder().withNewMetadata().withName("token").endMetadata().build())
        .create();
    client.configMaps().inNamespace("kept").resource(configMap("settings")).create();

    client.namespaces().withName("doomed").delete();

    eventually(
        () -> {
          assertThat(client.apps().deployments().inNamespace("doomed").list().getItems()).isEmpty();
          assertThat(client.configMaps().inNamespace("doomed").list().getItems()).isEmpty();
          assertThat(client.secrets().inNamespace("doomed").list().getItems()).isEmpty();
        });
    assertThat(client.configMaps().inNamespace("kept").withName("settings").get()).isNotNull();
  }

  @Test
  void inventoryListsNamespacesWithTheirObjects() {
    KubernetesActivities activities = activities();
    activities.ensureNamespace(new NamespaceSpec("review-1-mr-2", "review-app/1/mr-2", 1, 2));
    activities.applyWorkload(
        new WorkloadSpec(
            "review-1-mr-2", "review-app/1/mr-2", "abc123", "registry/app:abc123", "mr-2.example"));
    createNamespace("aaa-first");

    List<SandboxCluster.NamespaceEntry> inventory = sandbox.inventory();

    assertThat(inventory)
        .extracting(SandboxCluster.NamespaceEntry::name)
        .containsExactly("aaa-first", "review-1-mr-2");
    SandboxCluster.NamespaceEntry review = inventory.get(1);
    assertThat(review.labels()).containsEntry(Labels.MANAGED_BY, "ephemera");
    assertThat(review.objects())
        .extracting(o -> o.kind() + "/" + o.name())
        .containsExactly(
            "Deployment/app",
            "Ingress/app",
            "LimitRange/ephemera-limits",
            "NetworkPolicy/allow-from-ingress",
            "NetworkPolicy/default-deny",
            "ResourceQuota/ephemera-quota",
            "Service/app");
    assertThat(review.objects())
        .allSatisfy(
            o -> assertThat(o.labels()).containsEntry(Labels.WORKFLOW_ID, "review-app.1.mr-2"));
    assertThat(inventory.get(0).objects()).isEmpty();
  }

  @Test
  void theActivitiesDeployAndTearDownAReviewAppInTheSandbox() {
    KubernetesActivities activities = activities();
    String ns = "review-1-mr-3";
    activities.ensureNamespace(new NamespaceSpec(ns, "review-app/1/mr-3", 1, 3));
    activities.applyWorkload(
        new WorkloadSpec(ns, "review-app/1/mr-3", "abc123", "registry/app:abc123", "mr-3.example"));

    assertThat(activities.awaitRollout(new RolloutRequest(ns, "abc123")).readyReplicas())
        .isEqualTo(1);

    activities.deleteIngress(ns);
    activities.deleteWorkloads(ns);
    activities.deleteNamespace(ns);
    assertThat(activities.awaitNamespaceGone(ns)).isEqualTo(NamespaceState.goneNow());
    eventually(() -> assertThat(sandbox.inventory()).isEmpty());
  }

  @Test
  void theControllerKeepsRunningWhenAPassFails() {
    AtomicInteger passes = new AtomicInteger();
    Config unreachable =
        new ConfigBuilder(Config.empty())
            .withMasterUrl("http://127.0.0.1:1/")
            .withRequestRetryBackoffLimit(0)
            .build();
    try (KubernetesClient broken = new KubernetesClientBuilder().withConfig(unreachable).build();
        SandboxController controller =
            new SandboxController(
                broken,
                ROLLOUT_DELAY,
                Clock.systemUTC(),
                passes::incrementAndGet,
                new SandboxBuilds(
                    broken, Duration.ZERO, Clock.systemUTC(), new ConcurrentHashMap<>()))) {
      controller.start();

      eventually(() -> assertThat(passes.get()).isGreaterThanOrEqualTo(3));
    }
  }

  @Test
  void closingTwiceIsHarmless() {
    sandbox.close();
    sandbox.close();
  }

  // ---- helpers ----

  KubernetesActivities activities() {
    // The real adapter, outside an activity (it then skips heartbeats), polling fast.
    KubernetesProperties fast =
        new KubernetesProperties(
            true,
            null,
            null,
            null,
            0,
            0,
            null,
            null,
            Duration.ofMillis(50),
            PATIENCE,
            PATIENCE,
            Duration.ofMillis(50));
    return new KubernetesActivitiesImpl(client, fast);
  }

  void createNamespace(String name) {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
  }

  Integer readyReplicas(String ns, String name) {
    Deployment d = client.apps().deployments().inNamespace(ns).withName(name).get();
    return d.getStatus() == null ? null : d.getStatus().getReadyReplicas();
  }

  static Deployment deployment(String name, String image) {
    return new DeploymentBuilder()
        .withNewMetadata()
        .withName(name)
        .endMetadata()
        .withNewSpec()
        .withReplicas(2)
        .withNewSelector()
        .addToMatchLabels("app", name)
        .endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .addToLabels("app", name)
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName(name)
        .withImage(image)
        .endContainer()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  static io.fabric8.kubernetes.api.model.ConfigMap configMap(String name) {
    return new ConfigMapBuilder().withNewMetadata().withName(name).endMetadata().build();
  }

  /** Polls an assertion until it holds, for at most {@link #PATIENCE}: no fixed sleeps. */
  static void eventually(Runnable assertion) {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (true) {
      try {
        assertion.run();
        return;
      } catch (AssertionError e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
      try {
        Thread.sleep(25);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
  }

  @Test
  void theFaultSwitchMakesEveryRequestFailUntilItIsTurnedOff() {
    client
        .namespaces()
        .resource(
            new io.fabric8.kubernetes.api.model.NamespaceBuilder()
                .withNewMetadata()
                .withName("before-the-fault")
                .endMetadata()
                .build())
        .create();

    sandbox.failRequests(true);
    // Without the client's own retries (which would only wait for the switch to go off).
    try (KubernetesClient noRetries =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder(client.getConfiguration())
                    .withRequestRetryBackoffLimit(0)
                    .build())
            .build()) {
      assertThatThrownBy(() -> noRetries.namespaces().list())
          .isInstanceOf(io.fabric8.kubernetes.client.KubernetesClientException.class)
          .hasMessageContaining("500");
    }

    sandbox.failRequests(false);
    assertThat(client.namespaces().withName("before-the-fault").get()).isNotNull();
  }

  @Test
  void listsComeInPagesAsFromARealApiServer() {
    for (int i = 0; i < 7; i++) {
      client
          .namespaces()
          .resource(
              new NamespaceBuilder()
                  .withNewMetadata()
                  .withName("paged-" + i)
                  .addToLabels("paging-test", "yes")
                  .endMetadata()
                  .build())
          .create();
    }
    List<String> seen = new java.util.ArrayList<>();
    String cont = null;
    int pages = 0;
    do {
      var page =
          client
              .namespaces()
              .withLabel("paging-test", "yes")
              .list(
                  new io.fabric8.kubernetes.api.model.ListOptionsBuilder()
                      .withLimit(3L)
                      .withContinue(cont)
                      .build());
      assertThat(page.getItems()).hasSizeLessThanOrEqualTo(3);
      page.getItems().forEach(n -> seen.add(n.getMetadata().getName()));
      cont = page.getMetadata().getContinue();
      pages++;
    } while (cont != null && !cont.isEmpty() && pages < 10);

    assertThat(pages).isEqualTo(3);
    assertThat(seen)
        .containsExactly(
            "paged-0", "paged-1", "paged-2", "paged-3", "paged-4", "paged-5", "paged-6");
    // Without a limit, everything at once, as before.
    assertThat(client.namespaces().withLabel("paging-test", "yes").list().getItems()).hasSize(7);
  }
}
