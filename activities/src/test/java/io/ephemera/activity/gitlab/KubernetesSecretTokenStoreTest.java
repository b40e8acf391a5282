package io.ephemera.activity.gitlab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ephemera.common.Labels;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The token store against Fabric8's mock API server in CRUD mode. */
// Plain HTTP: a self-signed certificate per test costs ~200 ms, and TLS is not under test.
@EnableKubernetesMockClient(crud = true, https = false)
class KubernetesSecretTokenStoreTest {
  static final String NS = "ephemera-runners";
  static final String WORKFLOW_ID = "runner/42/job-7";
  static final String SECRET = "runner-token-runner-42-job-7";
  static final String TOKEN = "glrt-t1_0123456789abcdefghij";

  KubernetesClient client;
  KubernetesSecretTokenStore store;

  @BeforeEach
  void setUp() {
    store = new KubernetesSecretTokenStore(client, null);
  }

  @Test
  void putKeepsTheTokenInALabelledSecretOfTheRunnersNamespace() {
    String ref = store.put(WORKFLOW_ID, 9171, TOKEN);

    assertThat(ref).isEqualTo("k8s-secret:" + NS + "/" + SECRET);
    Secret secret = client.secrets().inNamespace(NS).withName(SECRET).get();
    assertThat(secret.getMetadata().getLabels())
        .containsEntry(Labels.MANAGED_BY, "ephemera")
        .containsEntry(Labels.WORKFLOW_ID, "runner.42.job-7")
        .containsEntry(Labels.KIND, Labels.KIND_RUNNER);
    assertThat(secret.getMetadata().getAnnotations())
        .containsEntry(Labels.WORKFLOW_ID_ANNOTATION, WORKFLOW_ID)
        .containsEntry("ephemera.io/runner-id", "9171");
    assertThat(decode(secret.getData().get("token"))).isEqualTo(TOKEN);

    Namespace namespace = client.namespaces().withName(NS).get();
    assertThat(namespace.getMetadata().getLabels()).containsEntry(Labels.MANAGED_BY, "ephemera");
  }

  @Test
  void getAndFindAnswerTheStoredTokenWithoutEverPrintingIt() {
    String ref = store.put(WORKFLOW_ID, 9171, TOKEN);

    RunnerTokenStore.StoredToken byRef = store.get(ref).orElseThrow();
    RunnerTokenStore.StoredToken byWorkflow = store.find(WORKFLOW_ID).orElseThrow();

    assertThat(byRef).isEqualTo(new RunnerTokenStore.StoredToken(ref, WORKFLOW_ID, 9171, TOKEN));
    assertThat(byWorkflow).isEqualTo(byRef);
    assertThat(byRef.toString()).doesNotContain(TOKEN);
  }

  @Test
  void putReplacesTheTokenOfARunnerMadeAgain() {
    store.put(WORKFLOW_ID, 9171, TOKEN);
    store.put(WORKFLOW_ID, 9172, "glrt-t1_another-token-value");

    RunnerTokenStore.StoredToken stored = store.find(WORKFLOW_ID).orElseThrow();
    assertThat(stored.runnerId()).isEqualTo(9172);
    assertThat(stored.token()).isEqualTo("glrt-t1_another-token-value");
    assertThat(client.secrets().inNamespace(NS).list().getItems()).hasSize(1);
  }

  @Test
  void nothingStoredIsEmpty() {
    assertThat(store.find(WORKFLOW_ID)).isEmpty();
    assertThat(store.get("k8s-secret:" + NS + "/" + SECRET)).isEmpty();
  }

  @Test
  void deleteRemovesTheSecretAndDeletingTwiceSucceeds() {
    store.put(WORKFLOW_ID, 9171, TOKEN);

    store.delete(WORKFLOW_ID);
    store.delete(WORKFLOW_ID);

    assertThat(client.secrets().inNamespace(NS).withName(SECRET).get()).isNull();
    assertThat(store.find(WORKFLOW_ID)).isEmpty();
  }

  @Test
  void aSecretThatIsNotEphemerasIsNeitherReadNorDeleted() {
    client
        .secrets()
        .inNamespace(NS)
        .resource(
            new SecretBuilder()
                .withNewMetadata()
                .withName(SECRET)
                .withNamespace(NS)
                .endMetadata()
                .withData(Map.of("token", encode("someone-elses")))
                .build())
        .create();

    assertThat(store.find(WORKFLOW_ID)).isEmpty();
    store.delete(WORKFLOW_ID);
    assertThat(client.secrets().inNamespace(NS).withName(SECRET).get()).isNotNull();
  }

  @Test
  void aReferenceOutsideTheRunnersNamespaceIsRefused() {
    assertThatThrownBy(() -> store.get("k8s-secret:kube-system/admin-token"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a token reference of this store");
  }

  @Test
  void theNamespaceIsConfigurable() {
    KubernetesSecretTokenStore other = new KubernetesSecretTokenStore(client, "ci-runners");

    assertThat(other.put(WORKFLOW_ID, 1, TOKEN)).isEqualTo("k8s-secret:ci-runners/" + SECRET);
    assertThat(client.secrets().inNamespace("ci-runners").withName(SECRET).get()).isNotNull();
  }

  static String decode(String base64) {
    return new String(Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
  }

  static String encode(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
