package io.ephemera.activity.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ephemera.activity.credentials.CredentialPurpose;
import io.ephemera.activity.credentials.CredentialRequest;
import io.ephemera.activity.vault.VaultCredentialActivities;
import io.ephemera.activity.vault.VaultLeaseIndex;
import io.ephemera.activity.vault.VaultProperties;
import io.ephemera.activity.vault.VaultProperties.Auth;
import io.ephemera.activity.vault.VaultProperties.DeploySources;
import io.ephemera.activity.vault.VaultProperties.Source;
import io.ephemera.activity.vault.VaultSession;
import io.ephemera.common.FailureType;
import io.ephemera.sandbox.SandboxVault;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Which credentials reach the API server: Fabric8's mock server records every request with its
 * Authorization header. The worker's client carries {@link #WORKER_TOKEN}; the deploy token is the
 * one the real credential activity issued from the sandbox Vault's Kubernetes secrets engine and
 * wrote into the review namespace.
 */
@EnableKubernetesMockClient(crud = true, https = false)
class DeployTokenClientsTest {
  static final String NS = KubernetesActivitiesImplTest.NS;
  static final String WORKFLOW_ID = KubernetesActivitiesImplTest.WORKFLOW_ID;
  static final String SHA = KubernetesActivitiesImplTest.SHA1;
  static final String WORKER_TOKEN = "worker-own-token";

  KubernetesMockServer server;
  KubernetesClient worker;
  SandboxVault sandbox;
  VaultSession session;
  VaultCredentialActivities credentials;
  DeployTokenClients clients;
  final List<KubernetesClient> built = new CopyOnWriteArrayList<>();
  TestActivityEnvironment env;
  FakeTime time;
  ListAppender<ILoggingEvent> logs;

  @BeforeEach
  void setUp() {
    worker =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder(Config.empty())
                    .withMasterUrl(server.url("/"))
                    .withOauthToken(WORKER_TOKEN)
                    .build())
            .build();
    sandbox =
        SandboxVault.start()
            .kubernetesSecretsRole("kubernetes", "review-deployer", Duration.ofHours(1));
    VaultProperties props =
        new VaultProperties(
                sandbox.url(),
                null,
                Auth.approle(SandboxVault.APPROLE_ROLE_ID, sandbox.approleSecretId()),
                null,
                Duration.ofSeconds(2),
                null,
                null,
                null,
                null)
            .withSources(
                null,
                new DeploySources(
                    null, new Source("kubernetes/creds/review-deployer", null, null, null)));
    session = new VaultSession(props);
    credentials =
        new VaultCredentialActivities(
            session,
            new VaultLeaseIndex(session, props.leaseIndex()),
            worker,
            "registry.example.test");
    clients =
        new DeployTokenClients(
            worker,
            true,
            config -> {
              KubernetesClient c = new KubernetesClientBuilder().withConfig(config).build();
              built.add(c);
              return c;
            },
            java.time.Clock.systemUTC());
    time = new FakeTime(Instant.parse("2030-01-01T00:00:00Z"));
    env = TestActivityEnvironment.newInstance();

    logs = new ListAppender<>();
    logs.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
    logs.start();
    root().addAppender(logs);
  }

  @AfterEach
  void tearDown() {
    root().detachAppender(logs);
    env.close();
    clients.close();
    worker.close();
    session.close();
    sandbox.close();
  }

  KubernetesActivities activities(NamespaceClients workloadClients) {
    env.registerActivitiesImplementations(
        new KubernetesActivitiesImpl(
            worker, workloadClients, KubernetesProperties.defaults(), time, time));
    return env.newActivityStub(KubernetesActivities.class);
  }

  @Test
  void theWorkloadAndRolloutUseTheIssuedTokenWhileTheNamespaceUsesTheWorkers() throws Exception {
    KubernetesActivities activities = activities(clients);

    activities.ensureNamespace(KubernetesActivitiesImplTest.NAMESPACE);
    List<RecordedRequest> namespaceStep = drain();
    credentials.issue(pullCredentials());
    String issued = issuedToken();
    assertThat(issued).contains(SandboxVault.MARKER);
    drain();

    activities.applyWorkload(KubernetesActivitiesImplTest.workload(SHA));
    List<RecordedRequest> workloadStep = drain();
    reportReady();
    drain();
    activities.awaitRollout(new RolloutRequest(NS, SHA));
    List<RecordedRequest> rolloutStep = drain();

    assertThat(namespaceStep)
        .anySatisfy(
            r -> assertThat(r.getMethod() + " " + r.getPath()).isEqualTo("POST /api/v1/namespaces"))
        .allSatisfy(r -> assertThat(r.getHeader("Authorization")).isEqualTo(bearer(WORKER_TOKEN)));
    List<RecordedRequest> workloadWrites =
        inNamespaceOf(workloadStep, "deployments", "services", "ingresses");
    assertThat(workloadWrites)
        .extracting(RecordedRequest::getPath)
        .anyMatch(p -> p.endsWith("/deployments"))
        .anyMatch(p -> p.endsWith("/services"))
        .anyMatch(p -> p.endsWith("/ingresses"));
    assertThat(workloadWrites)
        .allSatisfy(r -> assertThat(r.getHeader("Authorization")).isEqualTo(bearer(issued)));
    // The ownership check of the namespace and the Secret read stay with the worker.
    assertThat(workloadStep)
        .filteredOn(r -> !workloadWrites.contains(r))
        .isNotEmpty()
        .allSatisfy(r -> assertThat(r.getHeader("Authorization")).isEqualTo(bearer(WORKER_TOKEN)));
    List<RecordedRequest> rolloutReads = inNamespaceOf(rolloutStep, "deployments", "pods");
    assertThat(rolloutReads)
        .isNotEmpty()
        .allSatisfy(r -> assertThat(r.getHeader("Authorization")).isEqualTo(bearer(issued)));
    // One client for both steps: cached by namespace and the Secret's resourceVersion.
    assertThat(built).hasSize(1);
    assertNoTokenInLogs(issued);
  }

  @Test
  void teardownUsesTheWorkersClientAndReleasesTheNamespacesClient() throws Exception {
    KubernetesActivities activities = activities(clients);
    activities.ensureNamespace(KubernetesActivitiesImplTest.NAMESPACE);
    credentials.issue(pullCredentials());
    activities.applyWorkload(KubernetesActivitiesImplTest.workload(SHA));
    assertThat(clients.cachedNamespaces()).containsExactly(NS);
    drain();

    activities.deleteIngress(NS);
    activities.deleteWorkloads(NS);
    activities.deleteNamespace(NS);

    assertThat(drain())
        .isNotEmpty()
        .allSatisfy(r -> assertThat(r.getHeader("Authorization")).isEqualTo(bearer(WORKER_TOKEN)));
    assertThat(clients.cachedNamespaces()).isEmpty();
    assertThat(catchThrowable(() -> built.get(0).namespaces().withName(NS).get()))
        .as("the released client is closed")
        .isNotNull();
  }

  @Test
  void aNewTokenBuildsANewClientAndClosesTheReplacedOne() {
    KubernetesActivities activities = activities(clients);
    activities.ensureNamespace(KubernetesActivitiesImplTest.NAMESPACE);
    credentials.issue(pullCredentials());
    KubernetesClient first = clients.forNamespace(NS);
    assertThat(clients.forNamespace(NS)).isSameAs(first);

    credentials.issue(pullCredentials());
    KubernetesClient second = clients.forNamespace(NS);

    assertThat(second).isNotSameAs(first);
    assertThat(built).containsExactly(first, second);
    assertThat(catchThrowable(() -> first.namespaces().withName(NS).get()))
        .as("the replaced client is closed")
        .isNotNull();
    assertThat(second.getConfiguration().getOauthToken()).isEqualTo(issuedToken());
  }

  @Test
  void aMissingTokenSecretIsATypedRetryableFailure() {
    KubernetesActivities activities = activities(clients);
    activities.ensureNamespace(KubernetesActivitiesImplTest.NAMESPACE);

    ApplicationFailure f =
        failure(() -> activities.applyWorkload(KubernetesActivitiesImplTest.workload(SHA)));

    assertThat(f.getType()).isEqualTo(FailureType.KubernetesUnavailable.name());
    assertThat(f.isNonRetryable()).isFalse();
    assertThat(f.getOriginalMessage())
        .contains(NS + "/" + DeployToken.SECRET_NAME)
        .contains("ephemera.vault.deploy.kubernetes");
    assertThat(worker.apps().deployments().inNamespace(NS).withName("app").get()).isNull();
  }

  @Test
  void anExpiredTokenIsNamedAndNeverUsed() {
    KubernetesActivities activities = activities(clients);
    activities.ensureNamespace(KubernetesActivitiesImplTest.NAMESPACE);
    worker
        .secrets()
        .inNamespace(NS)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(DeployToken.SECRET_NAME)
                .addToAnnotations(DeployToken.EXPIRES_AT_ANNOTATION, "2020-01-01T00:00:00Z")
                .endMetadata()
                .withData(Map.of(DeployToken.TOKEN_KEY, base64("expired-secret-token")))
                .build())
        .create();

    ApplicationFailure f =
        failure(() -> activities.applyWorkload(KubernetesActivitiesImplTest.workload(SHA)));

    assertThat(f.getType()).isEqualTo(FailureType.KubernetesForbidden.name());
    assertThat(f.getOriginalMessage())
        .contains("expired at 2020-01-01T00:00:00Z")
        .contains("ephemera.vault.deploy.kubernetes.ttl")
        .doesNotContain("expired-secret-token");
    assertThat(built).isEmpty();
  }

  @Test
  void withoutTheSourceTheWorkersClientWritesTheWorkload() throws Exception {
    KubernetesActivities activities = activities(NamespaceClients.worker(worker));
    activities.ensureNamespace(KubernetesActivitiesImplTest.NAMESPACE);
    drain();

    activities.applyWorkload(KubernetesActivitiesImplTest.workload(SHA));

    List<RecordedRequest> requests = drain();
    assertThat(inNamespaceOf(requests, "deployments", "services", "ingresses")).isNotEmpty();
    assertThat(requests)
        .allSatisfy(r -> assertThat(r.getHeader("Authorization")).isEqualTo(bearer(WORKER_TOKEN)))
        .noneMatch(r -> r.getPath().contains(DeployToken.SECRET_NAME));
  }

  @Test
  void whenOnlySomeProjectsHaveATokenANamespaceWithoutOneUsesTheWorkersClient() {
    try (DeployTokenClients optional = new DeployTokenClients(worker, false)) {
      assertThat(optional.forNamespace(NS)).isSameAs(worker);
    }
  }

  // ---- helpers ----

  static CredentialRequest pullCredentials() {
    return new CredentialRequest(
        WORKFLOW_ID, 42, "group/app", CredentialPurpose.DEPLOY, NS, "registry-pull");
  }

  String issuedToken() {
    Secret s = worker.secrets().inNamespace(NS).withName(DeployToken.SECRET_NAME).get();
    return new String(
        Base64.getDecoder().decode(s.getData().get(DeployToken.TOKEN_KEY)), StandardCharsets.UTF_8);
  }

  /** What the deployment controller would write; the mock has none. */
  void reportReady() {
    Deployment d = worker.apps().deployments().inNamespace(NS).withName("app").get();
    d.setStatus(
        new DeploymentStatusBuilder()
            .withObservedGeneration(d.getMetadata().getGeneration())
            .withReplicas(1)
            .withUpdatedReplicas(1)
            .withReadyReplicas(1)
            .withAvailableReplicas(1)
            .build());
    worker.apps().deployments().inNamespace(NS).resource(d).updateStatus();
  }

  /** Every request the mock received since the last call. */
  List<RecordedRequest> drain() throws InterruptedException {
    List<RecordedRequest> out = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.takeRequest(50, TimeUnit.MILLISECONDS)) != null) {
      out.add(r);
    }
    return out;
  }

  static List<RecordedRequest> inNamespaceOf(List<RecordedRequest> requests, String... kinds) {
    List<RecordedRequest> out = new ArrayList<>();
    for (RecordedRequest r : requests) {
      for (String kind : kinds) {
        if (r.getPath().contains("/namespaces/" + NS + "/" + kind)) {
          out.add(r);
          break;
        }
      }
    }
    return out;
  }

  static String bearer(String token) {
    return "Bearer " + token;
  }

  static String base64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  static ApplicationFailure failure(Runnable call) {
    Throwable thrown = catchThrowable(call::run);
    assertThat(thrown).isInstanceOf(ActivityFailure.class);
    assertThat(thrown.getCause()).isInstanceOf(ApplicationFailure.class);
    return (ApplicationFailure) thrown.getCause();
  }

  static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  void assertNoTokenInLogs(String token) {
    assertThat(logs.list).isNotEmpty();
    assertThat(logs.list)
        .allSatisfy(
            e -> {
              assertThat(e.getFormattedMessage()).doesNotContain(token);
              if (e.getThrowableProxy() != null) {
                assertThat(e.getThrowableProxy().getMessage()).doesNotContain(token);
              }
            });
  }
}
