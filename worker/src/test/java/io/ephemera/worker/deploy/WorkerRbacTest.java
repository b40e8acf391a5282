package io.ephemera.worker.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.activity.build.BuildProperties;
import io.ephemera.activity.build.BuildRequest;
import io.ephemera.activity.build.KanikoBuilder;
import io.ephemera.activity.compute.ComputeActivitiesImpl;
import io.ephemera.activity.compute.ProvisionRequest;
import io.ephemera.activity.compute.RunnerPodProperties;
import io.ephemera.activity.compute.RunnerPods;
import io.ephemera.activity.compute.TerminateRequest;
import io.ephemera.activity.config.RunnerProperties;
import io.ephemera.activity.credentials.CredentialActivities;
import io.ephemera.activity.credentials.CredentialPurpose;
import io.ephemera.activity.credentials.CredentialRequest;
import io.ephemera.activity.gitlab.KubernetesSecretTokenStore;
import io.ephemera.activity.kubernetes.KubernetesActivitiesImpl;
import io.ephemera.activity.kubernetes.KubernetesProperties;
import io.ephemera.activity.kubernetes.NamespaceSpec;
import io.ephemera.activity.kubernetes.RolloutRequest;
import io.ephemera.activity.kubernetes.WorkloadSpec;
import io.ephemera.activity.reconciler.KubernetesSources;
import io.ephemera.activity.reconciler.ManagedSource;
import io.ephemera.activity.vault.VaultCredentialActivities;
import io.ephemera.common.Labels;
import io.ephemera.common.Names;
import io.ephemera.common.WorkflowIds;
import io.ephemera.runner.RunnerRoute;
import io.ephemera.runner.RunnerType;
import io.ephemera.worker.deploy.WorkerGrants.Grant;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobConditionBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.temporal.failure.ApplicationFailure;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.context.annotation.ClassPathScanningCandidateComponentProvider;

/**
 * The worker's RBAC in the Helm chart matches what the Kubernetes adapters do, derived rather than
 * copied: each adapter runs its lifecycle ("exercises") against Fabric8's mock API server in CRUD
 * mode, every request is recorded as (verb, group, resource, namespace), and the recorded set is
 * compared with the rendered ClusterRole, Roles and bindings of the worker's ServiceAccount.
 *
 * <ul>
 *   <li>A request no grant allows fails: the worker would get 403 in a real cluster.
 *   <li>A grant no request uses fails: it is more privilege than the code needs.
 *   <li>An adapter class that takes a KubernetesClient (a public constructor or public static
 *       method with one) and no exercise covers fails: adding one is how a new adapter's
 *       permissions enter this comparison.
 * </ul>
 *
 * To add an adapter: add an {@link Exercise} to {@link #exercises()} that calls every method the
 * worker calls, on both the "new" and the "already exists" paths.
 */
@EnableKubernetesMockClient(crud = true, https = false)
class WorkerRbacTest {

  /** One adapter's lifecycle, run against the recording cluster. */
  record Exercise(String name, Set<Class<?>> covers, Body body) {}

  @FunctionalInterface
  interface Body {
    void run(Cluster cluster) throws Exception;
  }

  /**
   * The cluster an exercise talks to, the rendered chart (for the namespaces and settings its
   * configuration names), and the mock server (for answers CRUD mode does not give, e.g. logs).
   */
  record Cluster(
      KubernetesClient client,
      RenderedChart chart,
      KubernetesMockServer server,
      Recorder recorder) {
    String runnersNamespace() {
      return (String) chart.property("ephemera.runners.kubernetes.namespace");
    }

    String buildNamespace() {
      return (String) chart.property("ephemera.build.namespace");
    }

    /** Sets the scene (plays the kubelet, a person, ...): its requests are not the worker's. */
    void offTheRecord(Runnable setup) {
      recorder.pause(setup);
    }
  }

  static List<Exercise> exercises() {
    return List.of(
        new Exercise(
            "review app: ensure, apply, await, tear down",
            Set.of(KubernetesActivitiesImpl.class),
            WorkerRbacTest::reviewAppLifecycle),
        new Exercise(
            "runner pod: token, provision, terminate",
            Set.of(RunnerPods.class, ComputeActivitiesImpl.class, KubernetesSecretTokenStore.class),
            WorkerRbacTest::runnerLifecycle),
        new Exercise(
            "credentials: build and pull Secrets from the sandbox Vault",
            Set.of(VaultCredentialActivities.class),
            WorkerRbacTest::credentials),
        new Exercise(
            "image build: Kaniko Job, failure log, cleanup",
            Set.of(KanikoBuilder.class),
            WorkerRbacTest::imageBuild),
        new Exercise(
            "deploy token: the worker reads the Vault-issued token's Secret",
            Set.of(io.ephemera.activity.kubernetes.DeployTokenClients.class),
            WorkerRbacTest::deployToken),
        new Exercise(
            "reconciler: managed namespaces and runner pods, page by page",
            Set.of(KubernetesSources.class),
            WorkerRbacTest::reconcilerListings));
  }

  KubernetesMockServer server;
  KubernetesClient client;
  RenderedChart chart;
  Recorder recorder;

  @BeforeEach
  void setUp() {
    chart = RenderedChart.defaults();
    recorder = new Recorder(server);
  }

  @Test
  void theWorkersRulesAreExactlyWhatTheAdaptersCall() throws Exception {
    String sa =
        chart.deployment("worker").getSpec().getTemplate().getSpec().getServiceAccountName();
    List<Grant> grants = WorkerGrants.of(chart, sa, RenderedChart.NAMESPACE);
    assertThat(grants).isNotEmpty();

    Cluster cluster = new Cluster(client, chart, server, recorder);
    // The chart creates the runners and build namespaces (templates/namespaces.yaml).
    cluster.offTheRecord(
        () -> {
          for (String ns : List.of(cluster.runnersNamespace(), cluster.buildNamespace())) {
            client
                .namespaces()
                .resource(
                    new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
                .create();
          }
        });
    Map<ApiAccess, String> accesses = new LinkedHashMap<>();
    recorder.drain();
    for (Exercise e : exercises()) {
      e.body().run(cluster);
      for (ApiAccess a : recorder.drain()) {
        accesses.putIfAbsent(a, e.name());
      }
    }
    assertThat(accesses).as("the exercises reached the API server").hasSizeGreaterThan(10);

    List<String> denied = new ArrayList<>();
    Set<Grant> used = new LinkedHashSet<>();
    for (ApiAccess a : accesses.keySet()) {
      // The most specific grant answers: a Role in the request's namespace before a ClusterRole,
      // so a cluster-wide rule counts as used only if something outside those namespaces needs it.
      List<Grant> allowing = grants.stream().filter(g -> g.allows(a)).toList();
      List<Grant> namespaced = allowing.stream().filter(g -> g.scope() != null).toList();
      if (allowing.isEmpty()) {
        denied.add(a + "  <- " + accesses.get(a));
      }
      used.addAll(namespaced.isEmpty() ? allowing : namespaced);
    }
    assertThat(denied)
        .as("requests the worker makes that its RBAC does not allow (add them to worker-rbac.yaml)")
        .isEmpty();

    Set<String> unused = new TreeSet<>();
    for (Grant g : grants) {
      if (!used.contains(g)) {
        unused.add(g.toString());
      }
    }
    assertThat(unused)
        .as("grants no exercised code uses (remove them, or exercise the code that needs them)")
        .isEmpty();
  }

  /**
   * Every class of the activities that talks to Kubernetes (a public constructor taking a
   * KubernetesClient) is covered by an exercise; a new adapter fails here until it has one.
   */
  @Test
  void everyKubernetesAdapterIsExercised() {
    Set<Class<?>> covered =
        exercises().stream().flatMap(e -> e.covers().stream()).collect(Collectors.toSet());
    ClassPathScanningCandidateComponentProvider scanner =
        new ClassPathScanningCandidateComponentProvider(false);
    scanner.addIncludeFilter((reader, factory) -> true);
    Set<String> adapters = new TreeSet<>();
    for (BeanDefinition candidate : scanner.findCandidateComponents("io.ephemera.activity")) {
      Class<?> type;
      try {
        type = Class.forName(candidate.getBeanClassName());
      } catch (ClassNotFoundException e) {
        throw new AssertionError(e);
      }
      if (type.getSimpleName().endsWith("Test")) {
        continue;
      }
      for (Constructor<?> c : type.getConstructors()) {
        if (Arrays.asList(c.getParameterTypes()).contains(KubernetesClient.class)) {
          adapters.add(type.getName());
        }
      }
      // Factories too: KubernetesSources hands out listings built on a client.
      for (Method m : type.getMethods()) {
        if (Modifier.isStatic(m.getModifiers())
            && Arrays.asList(m.getParameterTypes()).contains(KubernetesClient.class)) {
          adapters.add(type.getName());
        }
      }
    }
    assertThat(adapters)
        .as("the scan finds the known adapters")
        .contains(
            KubernetesActivitiesImpl.class.getName(),
            RunnerPods.class.getName(),
            KanikoBuilder.class.getName(),
            VaultCredentialActivities.class.getName(),
            KubernetesSources.class.getName());
    Set<String> uncovered = new TreeSet<>(adapters);
    covered.forEach(c -> uncovered.remove(c.getName()));
    assertThat(uncovered)
        .as("Kubernetes adapters without an exercise in WorkerRbacTest.exercises()")
        .isEmpty();
  }

  @Test
  void requestsAreReadInRbacTerms() {
    assertThat(ApiAccess.of("GET", "/api/v1/namespaces/mr-7"))
        .isEqualTo(new ApiAccess("get", "", "namespaces", null, "mr-7"));
    assertThat(ApiAccess.of("GET", "/api/v1/namespaces/mr-7/pods?labelSelector=a%3Db"))
        .isEqualTo(new ApiAccess("list", "", "pods", "mr-7", null));
    assertThat(ApiAccess.of("GET", "/api/v1/namespaces/b/pods/p/log?tailLines=20"))
        .isEqualTo(new ApiAccess("get", "", "pods/log", "b", "p"));
    assertThat(ApiAccess.of("PATCH", "/apis/apps/v1/namespaces/mr-7/deployments/app"))
        .isEqualTo(new ApiAccess("patch", "apps", "deployments", "mr-7", "app"));
    assertThat(ApiAccess.of("GET", "/apis/batch/v1/namespaces/b/jobs?watch=true").verb())
        .isEqualTo("watch");
    assertThat(ApiAccess.of("DELETE", "/api/v1/namespaces/r/secrets").verb())
        .isEqualTo("deletecollection");
    assertThat(ApiAccess.of("POST", "/api/v1/namespaces"))
        .isEqualTo(new ApiAccess("create", "", "namespaces", null, null));
  }

  // ---- exercises ----

  static void reviewAppLifecycle(Cluster cluster) {
    // Short waits: the mock runs no controller, so a rollout never finishes by itself.
    KubernetesProperties props =
        new KubernetesProperties(
            false,
            null,
            null,
            null,
            0,
            0,
            null,
            null,
            Duration.ofMillis(20),
            Duration.ofMillis(100),
            Duration.ofMillis(100),
            Duration.ofMillis(20));
    KubernetesActivitiesImpl k8s = new KubernetesActivitiesImpl(cluster.client(), props);
    String workflowId = WorkflowIds.reviewApp(4242, 7);
    String ns = Names.reviewNamespace(4242, "group/app", 7);
    NamespaceSpec spec = new NamespaceSpec(ns, workflowId, 4242, 7);
    String sha = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";
    WorkloadSpec workload =
        new WorkloadSpec(
            ns, workflowId, sha, "registry.example.com/app:" + sha, "mr-7.example.com");

    // Twice each: the second run takes the "already exists" path (read, then patch).
    k8s.ensureNamespace(spec);
    k8s.ensureNamespace(spec);
    k8s.applyWorkload(workload);
    k8s.applyWorkload(workload);
    try {
      k8s.awaitRollout(new RolloutRequest(ns, sha));
    } catch (ApplicationFailure pending) {
      assertThat(pending.getType()).isEqualTo("RolloutPending");
    }
    k8s.deleteIngress(ns);
    k8s.deleteWorkloads(ns);
    k8s.deleteNamespace(ns);
    k8s.awaitNamespaceGone(ns);
    cluster.offTheRecord(
        () ->
            assertThat(cluster.client().apps().deployments().inNamespace(ns).list().getItems())
                .isEmpty());
  }

  static void runnerLifecycle(Cluster cluster) {
    KubernetesClient client = cluster.client();
    String ns = cluster.runnersNamespace();
    KubernetesSecretTokenStore tokens = new KubernetesSecretTokenStore(client, ns);
    RunnerPodProperties podProps =
        new RunnerPodProperties(
            ns, null, null, null, null, 0, null, Duration.ofMillis(100), Duration.ofMillis(20));
    RunnerProperties runnerProps =
        new RunnerProperties(
            20,
            Duration.ofMinutes(10),
            Duration.ofHours(3),
            Duration.ofSeconds(30),
            Duration.ofMinutes(5),
            3600);
    RunnerPods pods =
        new RunnerPods(
            client, podProps, tokens, runnerProps, URI.create("https://gitlab.example.com"));
    ComputeActivitiesImpl compute = new ComputeActivitiesImpl(pods, null);
    String workflowId = WorkflowIds.runner(42, 7);
    RunnerRoute route =
        new RunnerRoute("default", RunnerType.KUBERNETES, null, null, null, null, null, null);

    String ref = tokens.put(workflowId, 99, "glrt-exercise-token");
    tokens.put(workflowId, 99, "glrt-exercise-token-2");
    assertThat(tokens.get(ref)).isPresent();
    assertThat(tokens.find(workflowId)).isPresent();
    ProvisionRequest request = new ProvisionRequest(workflowId, 42, 7, route, 99, ref, 600);
    compute.provision(request);
    compute.provision(request);
    // The pod died (evicted, say) but its token Secret stayed: provisioning again rewrites it.
    cluster.offTheRecord(
        () -> client.pods().inNamespace(ns).withLabel("ephemera.io/workflow-id").delete());
    compute.provision(request);
    TerminateRequest terminate = new TerminateRequest(workflowId, RunnerType.KUBERNETES);
    compute.terminate(terminate);
    assertThat(compute.awaitTerminated(terminate)).isTrue();
    tokens.delete(workflowId);
    tokens.delete(workflowId);

    // A pod under the runner's name that is not its own (created between the listing and the
    // create): provision reads it back and refuses to adopt it.
    String other = WorkflowIds.runner(42, 8);
    String otherRef = tokens.put(other, 100, "glrt-exercise-token-3");
    cluster.offTheRecord(
        () ->
            client
                .pods()
                .inNamespace(ns)
                .resource(
                    new PodBuilder()
                        .withNewMetadata()
                        .withName(Names.dns1123Label(other, Names.MAX_LABEL))
                        .endMetadata()
                        .build())
                .create());
    try {
      compute.provision(new ProvisionRequest(other, 42, 8, route, 100, otherRef, 600));
      throw new AssertionError("a foreign pod was adopted");
    } catch (ApplicationFailure refused) {
      assertThat(refused.getType()).isEqualTo("InvalidName");
    }
    compute.terminate(new TerminateRequest(other, RunnerType.KUBERNETES));
    tokens.delete(other);
  }

  /**
   * The credentials step of a deploy: the build's Secret in the build namespace and the pull Secret
   * in the review namespace, each issued twice (the second replaces the first, as a retry or the
   * next deploy does), from the sandbox Vault configured as the chart configures the real one.
   */
  static void credentials(Cluster cluster) {
    String reviewNs = Names.reviewNamespace(4242, "group/app", 7);
    // The review-app namespace step runs before the pull credential (another exercise's requests).
    cluster.offTheRecord(
        () ->
            cluster
                .client()
                .namespaces()
                .resource(
                    new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(reviewNs)
                        .endMetadata()
                        .build())
                .create());
    String workflowId = WorkflowIds.reviewApp(4242, 7);
    try (VaultExercise vault = VaultExercise.of(cluster.chart())) {
      CredentialActivities credentials = vault.credentials(cluster.client());
      for (int attempt = 0; attempt < 2; attempt++) {
        credentials.issue(
            new CredentialRequest(
                workflowId,
                4242,
                "group/app",
                CredentialPurpose.BUILD,
                cluster.buildNamespace(),
                "build-da1560886d4f-credentials"));
        credentials.issue(
            new CredentialRequest(
                workflowId,
                4242,
                "group/app",
                CredentialPurpose.DEPLOY,
                reviewNs,
                "registry-pull"));
      }
    }
  }

  /**
   * A build whose Job outlives one attempt's budget (the next attempt re-attaches), then fails: its
   * pod's log is read for the message, and Job, pods and credentials Secret are deleted; then the
   * workflow's deleteBuild finds nothing left. The mock runs no Job controller: the exercise plays
   * it off the record.
   */
  static void imageBuild(Cluster cluster) {
    KubernetesClient client = cluster.client();
    String ns = cluster.buildNamespace();
    BuildProperties props =
        new BuildProperties(
                null,
                null,
                null,
                null,
                null,
                0,
                0,
                Duration.ofMillis(100),
                Duration.ofMillis(20),
                0,
                // Nothing listens there: the "tag already exists" check cannot tell, so it builds.
                new BuildProperties.Registry("http", Duration.ofSeconds(1)),
                true,
                ns)
            .withDefaultGitUrl(URI.create("https://gitlab.example.com"));
    KanikoBuilder builder = new KanikoBuilder(client, props);
    String workflowId = WorkflowIds.reviewApp(4242, 7);
    String sha = "0123456789abcdef0123456789abcdef01234567";
    String name = "build-0123456789ab";
    String secret = name + "-credentials";
    BuildRequest request =
        new BuildRequest(
            workflowId, 4242, "group/app", sha, ns, name, "127.0.0.1:9/group/app:" + sha, secret);
    // The credentials step wrote the Secret (the credentials exercise records those requests).
    cluster.offTheRecord(
        () ->
            client
                .secrets()
                .inNamespace(ns)
                .resource(
                    new SecretBuilder()
                        .withNewMetadata()
                        .withName(secret)
                        .withLabels(
                            Map.of(
                                Labels.MANAGED_BY,
                                Labels.MANAGED_BY_VALUE,
                                Labels.WORKFLOW_ID,
                                Names.labelValue(workflowId)))
                        .endMetadata()
                        .addToStringData("config.json", "{\"auths\":{}}")
                        .build())
                .create());

    try {
      builder.build(request);
      throw new AssertionError("a build the mock never runs finished");
    } catch (ApplicationFailure pending) {
      assertThat(pending.getType()).isEqualTo("BuildPending");
    }
    String pod = name + "-x7k2p";
    cluster.offTheRecord(
        () -> {
          client
              .pods()
              .inNamespace(ns)
              .resource(
                  new PodBuilder()
                      .withNewMetadata()
                      .withName(pod)
                      .withLabels(
                          Map.of(
                              // BuildLabels.BUILD (package-private): how the builder finds its
                              // pods.
                              "ephemera.io/build",
                              name,
                              Labels.WORKFLOW_ID,
                              Names.labelValue(workflowId)))
                      .endMetadata()
                      // As the kubelet leaves it: terminated. A pod not yet done would make the
                      // client's getLog wait for it with a watch first.
                      .withNewStatus()
                      .withPhase("Failed")
                      .addNewContainerStatus()
                      .withName("kaniko")
                      .withNewState()
                      .withNewTerminated()
                      .withExitCode(2)
                      .withReason("Error")
                      .endTerminated()
                      .endState()
                      .endContainerStatus()
                      .endStatus()
                      .build())
              .create();
          Job job = client.batch().v1().jobs().inNamespace(ns).withName(name).get();
          job.setStatus(
              new JobStatusBuilder()
                  .withFailed(1)
                  .withConditions(
                      new JobConditionBuilder()
                          .withType("Failed")
                          .withStatus("True")
                          .withReason("BackoffLimitExceeded")
                          .build())
                  .build());
          client.batch().v1().jobs().inNamespace(ns).resource(job).updateStatus();
        });
    // CRUD mode serves no logs: the kubelet's answer.
    cluster
        .server()
        .expect()
        .get()
        .withPath(
            "/api/v1/namespaces/"
                + ns
                + "/pods/"
                + pod
                + "/log?pretty=false&container=kaniko&tailLines="
                + props.logTailLines())
        .andReturn(200, "error building image: exit status 2\n")
        .once();
    try {
      builder.build(request);
      throw new AssertionError("a failed Job built");
    } catch (ApplicationFailure failed) {
      assertThat(failed.getType()).isEqualTo("BuildFailed");
      // Its log was asked for (the request is what this test records); the text is
      // KanikoBuilderTest's business, and a slow mock answer only makes it "could not be read".
      assertThat(failed.getOriginalMessage())
          .containsAnyOf("exit status 2", "log could not be read");
    }
    builder.deleteBuild(request);
    cluster.offTheRecord(
        () -> {
          assertThat(client.batch().v1().jobs().inNamespace(ns).list().getItems()).isEmpty();
          assertThat(client.secrets().inNamespace(ns).withName(secret).get()).isNull();
        });
  }

  /**
   * With {@code ephemera.vault.deploy.kubernetes}, the worker only reads the token Secret the
   * credentials step wrote; what the client built from the token then does is authorised by the
   * Vault role's own binding, not by the worker's RBAC.
   */
  static void deployToken(Cluster cluster) {
    KubernetesClient client = cluster.client();
    String ns = Names.reviewNamespace(4242, "group/app", 11);
    cluster.offTheRecord(
        () -> {
          client
              .namespaces()
              .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
              .create();
          client
              .secrets()
              .inNamespace(ns)
              .resource(
                  new io.fabric8.kubernetes.api.model.SecretBuilder()
                      .withNewMetadata()
                      .withName(io.ephemera.activity.kubernetes.DeployToken.SECRET_NAME)
                      .addToAnnotations(
                          io.ephemera.activity.kubernetes.DeployToken.EXPIRES_AT_ANNOTATION,
                          java.time.Instant.now().plusSeconds(3600).toString())
                      .endMetadata()
                      .addToData(
                          io.ephemera.activity.kubernetes.DeployToken.TOKEN_KEY,
                          java.util.Base64.getEncoder().encodeToString("t".getBytes()))
                      .build())
              .create();
        });
    try (var clients = new io.ephemera.activity.kubernetes.DeployTokenClients(client, true)) {
      clients.forNamespace(ns);
      clients.forNamespace(ns); // cached: one more read of the Secret, no new client
    }
  }

  /** The reaper's Kubernetes listings, as the reconciler's pass pages through them. */
  static void reconcilerListings(Cluster cluster) {
    KubernetesClient client = cluster.client();
    String ns = Names.reviewNamespace(4242, "group/app", 9);
    cluster.offTheRecord(
        () ->
            client
                .namespaces()
                .resource(
                    new NamespaceBuilder()
                        .withNewMetadata()
                        .withName(ns)
                        .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
                        .addToLabels(
                            Labels.WORKFLOW_ID, Names.labelValue(WorkflowIds.reviewApp(4242, 9)))
                        .endMetadata()
                        .build())
                .create());
    for (ManagedSource source :
        List.of(
            KubernetesSources.namespaces(client),
            KubernetesSources.runnerPods(client, cluster.runnersNamespace()),
            KubernetesSources.builds(client, cluster.buildNamespace()))) {
      String cursor = null;
      int pages = 0;
      do {
        ManagedSource.Page page = source.page(cursor, 1);
        cursor = page.next();
        pages++;
      } while (cursor != null && pages < 10);
    }
  }

  // ---- plumbing ----

  /** The mock server's request log, read as RBAC accesses. */
  static final class Recorder {
    private final KubernetesMockServer server;
    private final List<ApiAccess> kept = new ArrayList<>();

    Recorder(KubernetesMockServer server) {
      this.server = server;
    }

    /** Every recorded request since the last drain. */
    List<ApiAccess> drain() {
      List<ApiAccess> out = new ArrayList<>(kept);
      kept.clear();
      out.addAll(take());
      return out;
    }

    /** Runs {@code setup} with its requests left out of the record. */
    void pause(Runnable setup) {
      kept.addAll(take());
      setup.run();
      take();
    }

    private List<ApiAccess> take() {
      List<ApiAccess> out = new ArrayList<>();
      try {
        RecordedRequest r;
        while ((r = server.takeRequest(50, TimeUnit.MILLISECONDS)) != null) {
          out.add(ApiAccess.of(r.getMethod(), r.getPath()));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      return out;
    }
  }
}
