package io.ephemera.activity.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.common.FailureType;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The error table, unit by unit, and end to end through the real client against the mock server in
 * expectations mode (the CRUD mode never answers 403 or 503).
 */
class KubernetesErrorsTest {
  static final String NS = KubernetesActivitiesImplTest.NS;

  @ParameterizedTest(name = "HTTP {0} -> {1}")
  @CsvSource({
    "401, KubernetesForbidden, false",
    "403, KubernetesForbidden, false",
    "422, KubernetesInvalid, false",
    "400, KubernetesInvalid, false",
    "404, KubernetesUnavailable, true",
    "409, KubernetesUnavailable, true",
    "429, KubernetesUnavailable, true",
    "500, KubernetesUnavailable, true",
    "503, KubernetesUnavailable, true",
  })
  void httpCodesMapToTheFailureCatalogue(int code, FailureType type, boolean retryable) {
    Status status = new StatusBuilder().withCode(code).withMessage("server says no").build();

    ApplicationFailure f = translate(new KubernetesClientException("boom", code, status));

    assertThat(f.getType()).isEqualTo(type.name());
    assertThat(f.isNonRetryable()).isEqualTo(!retryable);
    assertThat(f.getOriginalMessage())
        .contains("Deployment app in namespace " + NS, "server says no");
  }

  @Test
  void forbiddenNamesTheVerbsTheKindAndTheServiceAccountsRbac() {
    ApplicationFailure f =
        translate(
            new KubernetesClientException("no", 403, new StatusBuilder().withCode(403).build()));

    assertThat(f.getOriginalMessage())
        .contains("get/create/patch of Deployment app in namespace " + NS)
        .contains("ServiceAccount's RBAC must allow get, create, patch on deployments.apps");
  }

  @Test
  void forbiddenBecauseTheNamespaceIsTerminatingIsRetryable() {
    Status status =
        new StatusBuilder()
            .withCode(403)
            .withReason("Forbidden")
            .withMessage(
                "deployments.apps \"app\" is forbidden: unable to create new content in namespace "
                    + NS
                    + " because it is being terminated")
            .withNewDetails()
            .addNewCause()
            .withReason("NamespaceTerminating")
            .endCause()
            .endDetails()
            .build();

    ApplicationFailure f = translate(new KubernetesClientException("no", 403, status));

    assertThat(f.getType()).isEqualTo(FailureType.KubernetesUnavailable.name());
    assertThat(f.isNonRetryable()).isFalse();
  }

  @Test
  void noAnswerAtAllIsRetryable() {
    ApplicationFailure f =
        translate(
            new KubernetesClientException(
                "Operation failed", new IOException("Connection refused")));

    assertThat(f.getType()).isEqualTo(FailureType.KubernetesUnavailable.name());
    assertThat(f.isNonRetryable()).isFalse();
    assertThat(f.getOriginalMessage()).contains("could not be reached", "Connection refused");
  }

  @Test
  void aForbiddenAnswerFromTheServerFailsEnsureNamespaceForGood() {
    KubernetesMockServer server = new KubernetesMockServer(false);
    server.init();
    server
        .expect()
        .post()
        .withPath("/api/v1/namespaces")
        .andReturn(
            403,
            new StatusBuilder()
                .withCode(403)
                .withReason("Forbidden")
                .withMessage(
                    "namespaces is forbidden: User \"system:serviceaccount:ephemera:worker\""
                        + " cannot create resource \"namespaces\" at the cluster scope")
                .build())
        .always();
    try (KubernetesClient client = clientWithoutRetries(server.url("/"));
        TestActivityEnvironmentCloser env = new TestActivityEnvironmentCloser(client)) {

      ApplicationFailure f =
          KubernetesActivitiesImplTest.failure(
              () -> env.activities.ensureNamespace(KubernetesActivitiesImplTest.NAMESPACE));

      assertThat(f.getType()).isEqualTo(FailureType.KubernetesForbidden.name());
      assertThat(f.isNonRetryable()).isTrue();
      assertThat(f.getOriginalMessage())
          .contains("Namespace " + NS, "RBAC must allow", "on namespaces", "cannot create");
    } finally {
      server.destroy();
    }
  }

  @Test
  void aServerErrorIsRetryable() {
    KubernetesMockServer server = new KubernetesMockServer(false);
    server.init();
    server
        .expect()
        .get()
        .withPath("/api/v1/namespaces/" + NS)
        .andReturn(
            503, new StatusBuilder().withCode(503).withMessage("etcd leader changed").build())
        .always();
    try (KubernetesClient client = clientWithoutRetries(server.url("/"));
        TestActivityEnvironmentCloser env = new TestActivityEnvironmentCloser(client)) {

      ApplicationFailure f =
          KubernetesActivitiesImplTest.failure(() -> env.activities.deleteNamespace(NS));

      assertThat(f.getType()).isEqualTo(FailureType.KubernetesUnavailable.name());
      assertThat(f.isNonRetryable()).isFalse();
      assertThat(f.getOriginalMessage()).contains("HTTP 503");
    } finally {
      server.destroy();
    }
  }

  @Test
  void anUnreachableClusterIsRetryable() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    try (KubernetesClient client = clientWithoutRetries("http://127.0.0.1:1/");
        TestActivityEnvironmentCloser env = new TestActivityEnvironmentCloser(client)) {

      ApplicationFailure f =
          KubernetesActivitiesImplTest.failure(() -> env.activities.awaitNamespaceGone(NS));

      assertThat(f.getType()).isEqualTo(FailureType.KubernetesUnavailable.name());
      assertThat(f.isNonRetryable()).isFalse();
    }
  }

  private static ApplicationFailure translate(KubernetesClientException e) {
    return KubernetesErrors.translate(
        e, List.of("get", "create", "patch"), Deployment.class, "app", NS);
  }

  /** Fabric8 retries 5xx and I/O errors itself, with backoff; these tests want the first answer. */
  private static KubernetesClient clientWithoutRetries(String url) {
    Config config =
        new ConfigBuilder(Config.empty())
            .withMasterUrl(url)
            .withRequestRetryBackoffLimit(0)
            .withConnectionTimeout(2_000)
            .build();
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /** The adapter in an activity environment, closed with try-with-resources. */
  private static final class TestActivityEnvironmentCloser implements AutoCloseable {
    final TestActivityEnvironment env = TestActivityEnvironment.newInstance();
    final KubernetesActivities activities;

    TestActivityEnvironmentCloser(KubernetesClient client) {
      FakeTime time = new FakeTime(Instant.parse("2030-01-01T00:00:00Z"));
      env.registerActivitiesImplementations(
          new KubernetesActivitiesImpl(client, KubernetesProperties.defaults(), time, time));
      activities = env.newActivityStub(KubernetesActivities.class);
    }

    @Override
    public void close() {
      env.close();
    }
  }
}
