package io.ephemera.activity.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ephemera.activity.build.BuildProperties;
import io.ephemera.activity.build.BuildRequest;
import io.ephemera.activity.build.BuildResult;
import io.ephemera.activity.build.KanikoBuilder;
import io.ephemera.activity.credentials.SecretKeys;
import io.ephemera.activity.vault.VaultCredentialActivities;
import io.ephemera.common.FailureType;
import io.ephemera.common.Labels;
import io.ephemera.common.Names;
import io.ephemera.common.WorkflowIds;
import io.ephemera.sandbox.SandboxCluster;
import io.ephemera.sandbox.SandboxRegistry;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.temporal.failure.ApplicationFailure;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The build listing against the sandbox cluster, with builds made by the real {@link KanikoBuilder}
 * and held running: what the builder labels is what the listing finds, and what the listing hands
 * the reaper is what {@code deleteBuild} needs to remove Job, pods and Secret.
 */
class BuildListingTest {
  static final String NS = "ephemera-builds";
  static final String SHA = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";
  static final String RUNNING = WorkflowIds.reviewApp(42, 7);
  static final String GONE = WorkflowIds.reviewApp(42, 8);

  SandboxCluster sandbox;
  SandboxRegistry registry;
  KubernetesClient client;
  KanikoBuilder builder;
  final Owners owners = id -> id.equals(RUNNING) ? running() : Owners.State.NOT_FOUND;

  @BeforeEach
  void setUp() {
    sandbox = SandboxCluster.start(Duration.ofMillis(100), Duration.ofMillis(100));
    sandbox.holdBuilds(j -> true);
    registry = SandboxRegistry.start(0);
    client = sandbox.client();
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .create();
    BuildProperties props =
        new BuildProperties(
                null,
                null,
                null,
                null,
                null,
                0,
                0,
                Duration.ofSeconds(30),
                Duration.ofMillis(50),
                0,
                null,
                null,
                NS)
            .withDefaultGitUrl(URI.create("http://127.0.0.1:1"))
            .withRegistryScheme("http");
    builder = new KanikoBuilder(client, props);
  }

  @AfterEach
  void tearDown() {
    sandbox.close();
    registry.close();
  }

  @Test
  void aBuildOfAGoneReviewAppAndItsLoneSecretAreCandidatesThatDeleteBuildRemoves()
      throws Exception {
    writeSecret("build-gone", GONE);
    writeSecret("build-running", RUNNING);
    writeSecret("build-lone", GONE); // its review app stopped before the Job was created
    CompletableFuture<BuildResult> gone = build(GONE, "build-gone");
    CompletableFuture<BuildResult> running = build(RUNNING, "build-running");
    awaitJobs("build-gone", "build-running");

    Listing listing = scan(KubernetesSources.builds(client, NS));

    assertThat(listing.complete()).as(listing.errors().toString()).isTrue();
    assertThat(listing.live()).as("two Jobs and the lone Secret").isEqualTo(3);
    assertThat(listing.ownedByRunning()).isEqualTo(1);
    assertThat(listing.candidates())
        .extracting(Orphan::resource, Orphan::owner, Orphan::projectId, Orphan::build)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple(
                NS + "/job/build-gone",
                GONE,
                42L,
                new BuildRequest(GONE, 42, null, SHA, NS, "build-gone", null, "build-gone")),
            org.assertj.core.groups.Tuple.tuple(
                NS + "/secret/build-lone",
                GONE,
                42L,
                new BuildRequest(GONE, 42, null, null, NS, "build-lone", null, "build-lone")));

    for (Orphan o : listing.candidates()) {
      builder.deleteBuild(o.build());
    }

    assertThat(job("build-gone")).isFalse();
    assertThat(secret("build-gone")).isFalse();
    assertThat(secret("build-lone")).isFalse();
    assertThat(job("build-running")).isTrue();
    assertThat(secret("build-running")).isTrue();
    // The builder still waiting for the reaped Job gives up with the retryable BuildPending.
    assertThatThrownBy(() -> gone.get(20, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(ApplicationFailure.class)
        .satisfies(
            e ->
                assertThat(((ApplicationFailure) e).getType())
                    .isEqualTo(FailureType.BuildPending.name()));

    sandbox.holdBuilds(null);
    assertThat(running.get(20, TimeUnit.SECONDS).skipped()).isFalse();
    // A finished build keeps its Job until its workflow's deleteBuild (a retry after a lost
    // answer re-attaches to it): still live, owned by a running review app, never a candidate.
    Listing finished = scan(KubernetesSources.builds(client, NS));
    assertThat(finished.live()).isEqualTo(1);
    assertThat(finished.candidates()).isEmpty();
    builder.deleteBuild(request(RUNNING, "build-running"));
    assertThat(scan(KubernetesSources.builds(client, NS)).live()).isZero();
  }

  @Test
  void theListingReadsJobsThenSecretsAndSaysWhereItIs() throws Exception {
    writeSecret("build-gone", GONE);
    writeSecret("build-lone", GONE);
    CompletableFuture<BuildResult> gone = build(GONE, "build-gone");
    awaitJobs("build-gone");
    ManagedSource source = KubernetesSources.builds(client, NS);

    ManagedSource.Page jobs = source.page(null, 10);
    ManagedSource.Page secrets = source.page(jobs.next(), 10);

    assertThat(jobs.items())
        .extracting(ManagedSource.Managed::resource)
        .containsExactly(NS + "/job/build-gone");
    assertThat(jobs.next()).isEqualTo("secrets:");
    assertThat(secrets.items())
        .extracting(ManagedSource.Managed::resource)
        .containsExactly(NS + "/secret/build-lone");
    assertThat(secrets.next()).isNull();
    assertThatThrownBy(() -> source.page("namespaces:abc", 10))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> KubernetesSources.builds(client, "Not A Namespace"))
        .isInstanceOf(IllegalArgumentException.class);
    sandbox.holdBuilds(null);
    gone.get(20, TimeUnit.SECONDS);
  }

  @Test
  void aFailingClusterLeavesTheListingIncompleteWithNoCandidates() {
    writeSecret("build-lone", GONE);
    sandbox.failRequests(true);
    // Without request retries, as the worker's reconciler client is: it reports, the next pass
    // retries.
    try (KubernetesClient noRetries =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder(client.getConfiguration())
                    .withRequestRetryBackoffLimit(0)
                    .build())
            .build()) {
      Listing listing = scan(KubernetesSources.builds(noRetries, NS));

      assertThat(listing.complete()).isFalse();
      assertThat(listing.candidates()).isEmpty();
      assertThat(listing.errors()).containsOnlyKeys(ResourceKinds.SOURCE_KUBERNETES);
    } finally {
      sandbox.failRequests(false);
    }
    assertThat(secret("build-lone")).isTrue();
  }

  // ---- helpers ----

  private Listing scan(ManagedSource source) {
    // An hour on: everything here is past the grace period.
    Clock later = Clock.fixed(Instant.now().plus(Duration.ofHours(1)), ZoneOffset.UTC);
    return new OrphanScan(owners, later)
        .scan(source, Duration.ofMinutes(10), 500, 10, cursor -> {});
  }

  private static Owners.State running() {
    return new Owners.State(true, "running", null);
  }

  private CompletableFuture<BuildResult> build(String workflowId, String name) {
    BuildRequest request = request(workflowId, name);
    return CompletableFuture.supplyAsync(() -> builder.build(request));
  }

  private BuildRequest request(String workflowId, String name) {
    return new BuildRequest(
        workflowId, 42, "group/app", SHA, NS, name, registry.host() + "/group/app:" + SHA, name);
  }

  private void awaitJobs(String... names) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      boolean all = true;
      for (String n : names) {
        all &= job(n);
      }
      if (all) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("Jobs not created: " + String.join(", ", names));
  }

  private boolean job(String name) {
    return client.batch().v1().jobs().inNamespace(NS).withName(name).get() != null;
  }

  private boolean secret(String name) {
    return client.secrets().inNamespace(NS).withName(name).get() != null;
  }

  /** Labelled as {@link VaultCredentialActivities} labels a build's credentials Secret. */
  private void writeSecret(String name, String workflowId) {
    client
        .secrets()
        .inNamespace(NS)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(
                    Map.of(
                        Labels.MANAGED_BY,
                        Labels.MANAGED_BY_VALUE,
                        Labels.WORKFLOW_ID,
                        Names.labelValue(workflowId),
                        Labels.KIND,
                        Labels.KIND_REVIEW_APP,
                        VaultCredentialActivities.PURPOSE_LABEL,
                        "build"))
                .withAnnotations(Map.of(Labels.WORKFLOW_ID_ANNOTATION, workflowId))
                .endMetadata()
                .addToData(
                    SecretKeys.DOCKER_CONFIG,
                    Base64.getEncoder()
                        .encodeToString("{\"auths\":{}}".getBytes(StandardCharsets.UTF_8)))
                .build())
        .create();
  }
}
