package io.ephemera.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.ephemera.sandbox.SandboxFaults.Fault;
import io.ephemera.sandbox.SandboxFaults.Kind;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The seeded fault mode of the sandboxes: decisions are reproducible from the seed and near the
 * asked probability, and each kind reaches a real client as the failure it names (a 5xx; a
 * connection closed without an answer and nothing applied; a connection closed after the request
 * took effect). Off, requests are served as before.
 */
class SandboxFaultsTest {
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @Test
  void theSameSeedGivesTheSameDecisionsAndTheRateIsNearTheProbability() {
    List<Fault> first = decisions(42, 10_000);
    List<Fault> again = decisions(42, 10_000);
    List<Fault> other = decisions(43, 10_000);

    assertThat(again).isEqualTo(first);
    assertThat(other).isNotEqualTo(first);
    long faulted = first.stream().filter(f -> f != null).count();
    assertThat(faulted).isBetween(1_800L, 2_200L);
    for (Kind k : Kind.values()) {
      assertThat(first.stream().filter(f -> f != null && f.kind() == k).count())
          .as("%s among %d faults", k, faulted)
          .isBetween(faulted / 3 - 150, faulted / 3 + 150);
    }
    assertThat(first.stream().filter(f -> f != null && f.kind() == Kind.SERVER_ERROR))
        .allSatisfy(f -> assertThat(f.status()).isIn(500, 502, 503));
  }

  @Test
  void offOrAtProbabilityZeroNothingIsInjected() {
    SandboxFaults faults = new SandboxFaults("test");
    assertThat(faults.next()).isNull();
    faults.enable(0.0, 1);
    for (int i = 0; i < 1_000; i++) {
      assertThat(faults.next()).isNull();
    }
    faults.disable();
    assertThat(faults.enabled()).isFalse();
    assertThat(faults.injected().values()).containsOnly(0L);
    assertThatThrownBy(() -> faults.enable(1.5, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> faults.enable(0.5, 1, List.of(), Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void gitLabAnswersFiveHundredsHangsUpAndLosesTheAnswerOfAnAppliedRequest() throws Exception {
    try (SandboxGitLab gitlab = SandboxGitLab.start()) {
      gitlab.faults().enable(1.0, 7, List.of(Kind.SERVER_ERROR), Duration.ZERO);
      HttpResponse<String> r = http.send(createRunner(gitlab, 1), ofString());
      assertThat(r.statusCode()).isIn(500, 502, 503);
      assertThat(gitlab.inventory()).isEmpty();

      gitlab.faults().enable(1.0, 7, List.of(Kind.RESET), Duration.ZERO);
      assertThat(catchThrowable(() -> http.send(createRunner(gitlab, 2), ofString())))
          .isInstanceOf(IOException.class);
      assertThat(gitlab.inventory()).isEmpty();

      gitlab.faults().enable(1.0, 7, List.of(Kind.TIMEOUT), Duration.ofMillis(20));
      assertThat(catchThrowable(() -> http.send(createRunner(gitlab, 3), ofString())))
          .isInstanceOf(IOException.class);
      // The request took effect; only its answer was lost.
      assertThat(gitlab.inventory()).hasSize(1);

      gitlab.faults().disable();
      assertThat(http.send(createRunner(gitlab, 4), ofString()).statusCode()).isEqualTo(201);
      assertThat(gitlab.faults().injected())
          .isEqualTo(Map.of(Kind.SERVER_ERROR, 1L, Kind.RESET, 1L, Kind.TIMEOUT, 1L));
    }
  }

  @Test
  void theClusterFailsEphemerasRequestsButNotItsOwnController() {
    try (SandboxCluster cluster = SandboxCluster.start(Duration.ZERO, Duration.ZERO);
        KubernetesClient noRetries =
            new KubernetesClientBuilder()
                .withConfig(
                    new ConfigBuilder(cluster.client().getConfiguration())
                        .withRequestRetryBackoffLimit(0)
                        .withRequestTimeout(5_000)
                        .build())
                .build()) {
      cluster.faults().enable(1.0, 3, List.of(Kind.SERVER_ERROR), Duration.ZERO);
      Throwable e = catchThrowable(() -> create(noRetries, "faulted-5xx"));
      assertThat(e).isInstanceOf(KubernetesClientException.class);
      assertThat(((KubernetesClientException) e).getCode()).isIn(500, 502, 503);

      cluster.faults().enable(1.0, 3, List.of(Kind.RESET), Duration.ZERO);
      assertThat(catchThrowable(() -> create(noRetries, "faulted-reset")))
          .isInstanceOf(KubernetesClientException.class);

      cluster.faults().enable(1.0, 3, List.of(Kind.TIMEOUT), Duration.ofMillis(20));
      assertThat(catchThrowable(() -> create(noRetries, "faulted-timeout")))
          .isInstanceOf(KubernetesClientException.class);

      // The inventory reads through the sandbox's own client: answered while everything fails.
      assertThat(cluster.inventory())
          .extracting(SandboxCluster.NamespaceEntry::name)
          .contains("faulted-timeout")
          .doesNotContain("faulted-5xx", "faulted-reset");

      cluster.faults().disable();
      create(noRetries, "healthy");
      assertThat(cluster.inventory())
          .extracting(SandboxCluster.NamespaceEntry::name)
          .contains("healthy");
    }
  }

  @Test
  void vaultRegistryAndEc2FailTheirCallsToo() throws Exception {
    try (SandboxVault vault = SandboxVault.start();
        SandboxRegistry registry = SandboxRegistry.start(0);
        SandboxEc2 ec2 = SandboxEc2.start(Duration.ZERO)) {
      vault.faults().enable(1.0, 5, List.of(Kind.SERVER_ERROR), Duration.ZERO);
      registry.faults().enable(1.0, 5, List.of(Kind.SERVER_ERROR), Duration.ZERO);
      ec2.faults().enable(1.0, 5, List.of(Kind.SERVER_ERROR), Duration.ZERO);
      assertThat(get(vault.url() + "/v1/sys/seal-status").statusCode()).isIn(500, 502, 503);
      assertThat(get("http://" + registry.host() + "/v2/").statusCode()).isIn(500, 502, 503);
      HttpResponse<String> describe =
          http.send(
              HttpRequest.newBuilder(ec2.endpoint())
                  .header("Content-Type", "application/x-www-form-urlencoded")
                  .POST(HttpRequest.BodyPublishers.ofString("Action=DescribeInstances"))
                  .build(),
              ofString());
      assertThat(describe.statusCode()).isIn(500, 502, 503);
      assertThat(describe.body()).contains("<Code>");

      vault.faults().enable(1.0, 5, List.of(Kind.RESET), Duration.ZERO);
      registry.faults().enable(1.0, 5, List.of(Kind.RESET), Duration.ZERO);
      assertThat(catchThrowable(() -> get(vault.url() + "/v1/sys/seal-status")))
          .isInstanceOf(IOException.class);
      assertThat(catchThrowable(() -> get("http://" + registry.host() + "/v2/")))
          .isInstanceOf(IOException.class);

      vault.faults().disable();
      assertThat(get(vault.url() + "/v1/sys/seal-status").statusCode()).isEqualTo(200);
    }
  }

  private static List<Fault> decisions(long seed, int n) {
    SandboxFaults faults = new SandboxFaults("test");
    faults.enable(0.2, seed);
    List<Fault> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(faults.next());
    }
    return out;
  }

  private static HttpRequest createRunner(SandboxGitLab gitlab, int n) {
    return HttpRequest.newBuilder(URI.create(gitlab.url() + "/api/v4/user/runners"))
        .header("PRIVATE-TOKEN", "sandbox")
        .header("Content-Type", "application/json")
        .POST(
            HttpRequest.BodyPublishers.ofString(
                "{\"runner_type\":\"project_type\",\"project_id\":42,"
                    + "\"description\":\"ephemera runner/42/job-"
                    + n
                    + "\",\"tag_list\":[\"a\"]}"))
        .build();
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), ofString());
  }

  private static HttpResponse.BodyHandler<String> ofString() {
    return HttpResponse.BodyHandlers.ofString();
  }

  private static void create(KubernetesClient client, String name) {
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .create();
  }
}
