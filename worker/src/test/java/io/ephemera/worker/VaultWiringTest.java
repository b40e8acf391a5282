package io.ephemera.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.activity.credentials.CredentialActivities;
import io.ephemera.activity.credentials.CredentialPurpose;
import io.ephemera.activity.credentials.CredentialRequest;
import io.ephemera.activity.credentials.IssuedCredentials;
import io.ephemera.activity.credentials.RevokeRequest;
import io.ephemera.activity.credentials.SecretKeys;
import io.ephemera.common.TaskQueues;
import io.ephemera.sandbox.SandboxVault;
import io.ephemera.worker.config.TaskQueueActivities;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The local profile wires the sandbox Vault: the credential activities issue BUILD and DEPLOY
 * credentials into the sandbox cluster, {@code /sandbox/inventory} lists the leases with their
 * state, and revocation shows there.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "ephemera.temporal.embedded-port=0",
      "ephemera.roles=worker",
      // A context of its own: a cached context shared with RolesTest would be paused and
      // restarted, which the Temporal worker factory does not support.
      "ephemera.sandbox.kubernetes.rollout-delay=1s"
    })
@ActiveProfiles("local")
class VaultWiringTest {
  static final String WORKFLOW_ID = "review-app/4242/mr-7";
  static final String NS = "review-4242-mr-7";

  @Autowired CredentialActivities credentials;
  @Autowired KubernetesClient kubernetes;
  @Autowired List<TaskQueueActivities> activities;
  @LocalServerPort int port;

  @Test
  void localDeploysIssueAndRevokeSandboxCredentials() throws Exception {
    assertThat(activities)
        .anySatisfy(
            a -> {
              assertThat(a.taskQueue()).isEqualTo(TaskQueues.REVIEW_APPS);
              assertThat(a.implementations()).contains(credentials);
            });

    IssuedCredentials build =
        credentials.issue(
            new CredentialRequest(
                WORKFLOW_ID, 4242, "group/app", CredentialPurpose.BUILD, NS, "build-creds"));
    IssuedCredentials deploy =
        credentials.issue(
            new CredentialRequest(
                WORKFLOW_ID, 4242, "group/app", CredentialPurpose.DEPLOY, NS, "registry-pull"));

    Secret buildSecret = kubernetes.secrets().inNamespace(NS).withName("build-creds").get();
    assertThat(buildSecret.getData())
        .containsKeys(
            SecretKeys.DOCKER_CONFIG,
            SecretKeys.AWS_ACCESS_KEY_ID,
            SecretKeys.GIT_USERNAME,
            SecretKeys.GIT_PASSWORD);
    assertThat(kubernetes.secrets().inNamespace(NS).withName("registry-pull").get().getType())
        .isEqualTo("kubernetes.io/dockerconfigjson");
    assertThat(build.toString() + deploy.toString()).doesNotContain(SandboxVault.MARKER);

    List<String> leaseIds = new ArrayList<>();
    build.leases().stream().filter(l -> l.revocable()).forEach(l -> leaseIds.add(l.leaseId()));
    deploy.leases().stream().filter(l -> l.revocable()).forEach(l -> leaseIds.add(l.leaseId()));
    assertThat(leaseIds).hasSize(3); // build cache, source read, registry pull
    assertThat(leaseStates()).containsOnly("active").hasSize(3);

    credentials.revoke(new RevokeRequest(WORKFLOW_ID, build.leases()));
    credentials.revoke(new RevokeRequest(WORKFLOW_ID, deploy.leases()));

    assertThat(leaseStates()).containsOnly("revoked").hasSize(3);
  }

  private List<String> leaseStates() throws Exception {
    String body =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/sandbox/inventory"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(body).doesNotContain(SandboxVault.MARKER);
    JsonNode leases = JsonMapper.builder().build().readTree(body).get("leases");
    List<String> states = new ArrayList<>();
    leases.forEach(l -> states.add(l.get("state").asString()));
    return states;
  }
}
