package io.ephemera.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.ephemera.activity.build.BuildProperties;
import io.ephemera.activity.build.BuildRequest;
import io.ephemera.activity.build.BuildResult;
import io.ephemera.activity.build.KanikoBuilder;
import io.ephemera.activity.credentials.SecretKeys;
import io.ephemera.common.FailureType;
import io.ephemera.common.Labels;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.temporal.failure.ApplicationFailure;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Both paths of a build, end to end, through the real builder against the sandboxes. */
class SandboxClusterBuildTest {
  static final String NS = "review-42-mr-7";
  static final String WORKFLOW_ID = "review-app/42/mr-7";
  static final String SHA = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";
  static final String OTHER_SHA = "b0a3c2e1d4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9";

  SandboxCluster sandbox;
  SandboxRegistry registry;
  KubernetesClient client;
  KanikoBuilder builder;

  @BeforeEach
  void setUp() {
    sandbox = SandboxCluster.start(Duration.ofMillis(100), Duration.ofMillis(200));
    registry = SandboxRegistry.start(0);
    sandbox.pushBuildsTo(registry);
    client = sandbox.client();
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .create();
    BuildProperties fast =
        new BuildProperties(
                null,
                null,
                null,
                null,
                null,
                0,
                0,
                Duration.ofSeconds(20),
                Duration.ofMillis(50),
                0,
                null,
                null,
                null)
            .withDefaultGitUrl(URI.create("http://127.0.0.1:1"))
            .withRegistryScheme("http");
    // Outside an activity: the builder then skips heartbeats.
    builder = new KanikoBuilder(client, fast);
  }

  @AfterEach
  void tearDown() {
    sandbox.close();
    registry.close();
  }

  @Test
  void aBuildJobSucceedsAfterTheDelayAndPushesItsTagSoTheNextBuildIsSkipped() {
    writeSecret("creds-1");
    long start = System.nanoTime();

    BuildResult first = builder.build(request(SHA, "build-1", "creds-1"));

    assertThat(first).isEqualTo(new BuildResult(destination(SHA), false));
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofMillis(200));
    assertThat(registry.has(destination(SHA))).isTrue();
    assertThat(registry.inventory())
        .singleElement()
        .satisfies(i -> assertThat(i.tag()).isEqualTo(SHA));
    // The finished Job stays for a retry until the workflow's deleteBuild; pods and Secret go.
    assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
    assertThat(client.secrets().inNamespace(NS).withName("creds-1").get()).isNull();
    builder.deleteBuild(request(SHA, "build-1", "creds-1"));
    assertThat(client.batch().v1().jobs().inNamespace(NS).list().getItems()).isEmpty();

    writeSecret("creds-2");
    BuildResult again = builder.build(request(SHA, "build-2", "creds-2"));

    assertThat(again.skipped()).isTrue();
    builder.deleteBuild(request(SHA, "build-2", "creds-2"));
    assertThat(client.secrets().inNamespace(NS).withName("creds-2").get()).isNull();
  }

  @Test
  void aBuildTheSandboxIsToldToFailFailsWithItsSimulatedLog() {
    sandbox.failBuildsOf(OTHER_SHA);
    writeSecret("creds-3");

    ApplicationFailure f =
        catchThrowableOfType(
            ApplicationFailure.class,
            () -> builder.build(request(OTHER_SHA, "build-3", "creds-3")));

    assertThat(f.getType()).isEqualTo(FailureType.BuildFailed.name());
    assertThat(f.isNonRetryable()).isTrue();
    assertThat(f.getOriginalMessage())
        .contains("BackoffLimitExceeded")
        .contains("container kaniko exited with code 1 (Error)")
        .endsWith("sandbox was told to fail this build (SandboxCluster.failBuilds)");
    assertThat(registry.has(destination(OTHER_SHA))).isFalse();
    assertThat(client.batch().v1().jobs().inNamespace(NS).list().getItems()).isEmpty();
    assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
  }

  @Test
  void theInventoryListsBuildsWithTheirState() {
    sandbox.failBuildsOf(OTHER_SHA);
    client
        .batch()
        .v1()
        .jobs()
        .inNamespace(NS)
        .resource(
            new io.fabric8.kubernetes.api.model.batch.v1.JobBuilder()
                .withNewMetadata()
                .withName("build-4")
                .withLabels(Map.of(Labels.KIND, "build", Labels.SHA, OTHER_SHA))
                .endMetadata()
                .withNewSpec()
                .withNewTemplate()
                .withNewSpec()
                .addNewContainer()
                .withName("kaniko")
                .withImage("kaniko")
                .withArgs("--destination", destination(OTHER_SHA))
                .endContainer()
                .endSpec()
                .endTemplate()
                .endSpec()
                .build())
        .create();

    SandboxClusterTest.eventually(
        () ->
            assertThat(sandbox.builds())
                .singleElement()
                .isEqualTo(
                    new SandboxCluster.BuildEntry(
                        NS, "build-4", OTHER_SHA, destination(OTHER_SHA), "failed")));
    String log = client.pods().inNamespace(NS).list().getItems().getFirst().getMetadata().getName();
    assertThat(client.pods().inNamespace(NS).withName(log).tailingLines(1).getLog())
        .isEqualTo(
            "error building image: error building stage: failed to execute command: sandbox was"
                + " told to fail this build (SandboxCluster.failBuilds)\n");
  }

  String destination(String sha) {
    return registry.host() + "/group/app:" + sha;
  }

  BuildRequest request(String sha, String name, String secret) {
    return new BuildRequest(WORKFLOW_ID, 42, "group/app", sha, NS, name, destination(sha), secret);
  }

  /** As the credentials step writes it from the sandbox Vault: every value holds the marker. */
  void writeSecret(String name) {
    String auth =
        Base64.getEncoder()
            .encodeToString(
                ("robot:" + SandboxRegistry.SECRET_MARKER + "-pw")
                    .getBytes(StandardCharsets.UTF_8));
    String config = "{\"auths\":{\"" + registry.host() + "\":{\"auth\":\"" + auth + "\"}}}";
    client
        .secrets()
        .inNamespace(NS)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(name)
                .endMetadata()
                .addToData(
                    SecretKeys.DOCKER_CONFIG,
                    Base64.getEncoder().encodeToString(config.getBytes(StandardCharsets.UTF_8)))
                .build())
        .create();
  }
}
