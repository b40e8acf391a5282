package io.ephemera.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.ephemera.common.EphemeraSearchAttributes;
import io.ephemera.sandbox.SandboxVault;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest;
import io.temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryResponse;
import io.temporal.api.workflowservice.v1.ListClosedWorkflowExecutionsRequest;
import io.temporal.api.workflowservice.v1.ListOpenWorkflowExecutionsRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionDescription;
import io.temporal.common.SearchAttributes;
import io.temporal.serviceclient.WorkflowServiceStubs;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.io.ClassPathResource;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Boots Ephemera as a newcomer would (local profile: embedded Temporal, sandbox cluster, GitLab,
 * Vault and registry), drives it only through HTTP, and watches a merge request's environment come
 * and go: its deploy going through credentials, build and rollout, every lease revoked after
 * teardown, and no secret value in any workflow history.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "ephemera.temporal.embedded-port=0",
      "ephemera.api.tokens=e2e-token",
      "ephemera.sandbox.kubernetes.rollout-delay=200ms"
    })
@ActiveProfiles("local")
class ReviewAppEndToEndTest {
  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private final HttpClient http = HttpClient.newHttpClient();
  private final JsonMapper json = JsonMapper.builder().build();

  @LocalServerPort int port;
  @Autowired WorkflowClient temporal;
  @Autowired WorkflowServiceStubs stubs;
  @Autowired KubernetesClient kubernetes;

  @Value("${ephemera.gitlab.webhook-token}")
  String webhookToken;

  @Test
  void openingAMergeRequestGivesALiveEnvironmentAndClosingItRemovesTheNamespace() throws Exception {
    HttpResponse<String> opened = postWebhook("gitlab/merge-request-open.json", "delivery-open-1");
    assertThat(opened.statusCode()).as(opened.body()).isEqualTo(202);

    JsonNode ready =
        awaitStatus("/api/v1/review-apps/4242/7", s -> "READY".equals(text(s, "phase")));
    assertThat(text(ready, "url")).isEqualTo("http://mr-7.review.localhost");
    assertThat(text(ready, "sha")).isEqualTo("da1560886d4f094c3e6c9ef40349f7d38b5d27d7");
    String namespace = text(ready, "namespace");
    assertThat(namespaceNames()).contains(namespace);
    theDeployWentThroughCredentialsBuildAndRollout(ready);
    thePullCredentialIsARealSandboxSecretInTheNamespace(namespace);
    JsonNode gitlab = awaitGitLab(g -> size(g, "statuses", "success") == 1);
    theTemporalUiCanFindAndReadIt("review-app/4242/mr-7", text(ready, "url"));
    assertThat(gitlab.get("environments")).hasSize(1);
    assertThat(gitlab.get("environments").get(0).get("url").asString())
        .isEqualTo("http://mr-7.review.localhost");
    assertThat(gitlab.get("notes")).hasSize(1);
    assertThat(gitlab.get("notes").get(0).get("body").asString())
        .contains("http://mr-7.review.localhost");

    for (String sha : List.of("b".repeat(40), "c".repeat(40))) {
      assertThat(push(sha).statusCode()).isEqualTo(202);
      awaitStatus("/api/v1/review-apps/4242/7", s -> sha.equals(text(s, "sha")));
    }
    gitlab = awaitGitLab(g -> size(g, "deployments", "success") == 3);
    assertThat(gitlab.get("notes")).hasSize(1);
    assertThat(gitlab.get("deployments")).hasSize(3);

    HttpResponse<String> closed =
        postWebhook("gitlab/merge-request-close.json", "delivery-close-1");
    assertThat(closed.statusCode()).as(closed.body()).isEqualTo(202);

    JsonNode stopped =
        awaitStatus("/api/v1/review-apps/4242/7", s -> "STOPPED".equals(text(s, "phase")));
    assertThat(text(stopped, "stopReason")).contains("closed");
    assertThat(namespaceNames()).doesNotContain(namespace);
    JsonNode afterClose =
        awaitGitLab(g -> "stopped".equals(g.get("environments").get(0).get("state").asString()));
    assertThat(afterClose.get("notes")).hasSize(1);
    assertThat(afterClose.get("notes").get(0).get("body").asString()).contains("stopped");

    noLeaseIsLeftActiveAndNoBuildIsLeft();
    noSecretReachedAnyWorkflowHistory();
  }

  /** The deploy's steps, in order, as an operator sees them in status(). */
  private static void theDeployWentThroughCredentialsBuildAndRollout(JsonNode ready) {
    List<String> names = new ArrayList<>();
    for (JsonNode step : ready.get("steps")) {
      names.add(text(step, "name"));
      assertThat(text(step, "finishedAt")).as(step.toString()).isNotNull();
      assertThat(text(step, "outcome")).as(step.toString()).isIn("ok", "skipped");
    }
    assertThat(names)
        .containsExactly(
            "credentials", "build", "namespace", "pull-credentials", "workload", "rollout");
    // Lease ids, paths and expiry only: the values stayed in the Secrets.
    assertThat(ready.get("leases")).isNotEmpty();
    assertThat(ready.toString()).doesNotContain(SandboxVault.MARKER);
  }

  /**
   * Proves the secret check below can fail: the sandbox Vault's values (each carrying the marker)
   * really were issued and written into the review namespace's pull Secret.
   */
  private void thePullCredentialIsARealSandboxSecretInTheNamespace(String namespace) {
    Secret pull = kubernetes.secrets().inNamespace(namespace).withName("registry-pull").get();
    assertThat(pull).as("registry-pull Secret in " + namespace).isNotNull();
    String decoded =
        pull.getData().values().stream()
            .map(v -> new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8))
            .reduce("", String::concat);
    assertThat(decoded).contains(SandboxVault.MARKER);
  }

  /** After teardown: every lease the sandbox Vault issued is revoked, and no build Job is left. */
  private void noLeaseIsLeftActiveAndNoBuildIsLeft() throws Exception {
    JsonNode inventory = null;
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (System.nanoTime() < deadline) {
      inventory =
          json.readTree(
              http.send(
                      HttpRequest.newBuilder(uri("/sandbox/inventory")).build(),
                      HttpResponse.BodyHandlers.ofString())
                  .body());
      boolean anyActive = false;
      for (JsonNode lease : inventory.get("leases")) {
        anyActive |= SandboxVault.STATE_ACTIVE.equals(text(lease, "state"));
      }
      if (!anyActive && inventory.get("builds").isEmpty()) {
        break;
      }
      Thread.sleep(100);
    }
    assertThat(inventory.get("leases")).as("leases issued").isNotEmpty();
    for (JsonNode lease : inventory.get("leases")) {
      assertThat(text(lease, "state")).as(lease.toString()).isEqualTo(SandboxVault.STATE_REVOKED);
    }
    assertThat(inventory.get("builds")).as("build Jobs left").isEmpty();
  }

  /** Every history in the namespace, open and closed, every event: no sandbox secret in any. */
  private void noSecretReachedAnyWorkflowHistory() {
    String ns = temporal.getOptions().getNamespace();
    Map<String, WorkflowExecution> executions = new LinkedHashMap<>();
    stubs
        .blockingStub()
        .listOpenWorkflowExecutions(
            ListOpenWorkflowExecutionsRequest.newBuilder()
                .setNamespace(ns)
                .setMaximumPageSize(1000)
                .build())
        .getExecutionsList()
        .forEach(i -> executions.put(i.getExecution().getRunId(), i.getExecution()));
    stubs
        .blockingStub()
        .listClosedWorkflowExecutions(
            ListClosedWorkflowExecutionsRequest.newBuilder()
                .setNamespace(ns)
                .setMaximumPageSize(1000)
                .build())
        .getExecutionsList()
        .forEach(i -> executions.put(i.getExecution().getRunId(), i.getExecution()));
    assertThat(executions.values())
        .as("the review app's runs are among the histories checked")
        .anyMatch(e -> e.getWorkflowId().equals("review-app/4242/mr-7"));
    for (WorkflowExecution execution : executions.values()) {
      ByteString page = ByteString.EMPTY;
      int events = 0;
      do {
        GetWorkflowExecutionHistoryResponse response =
            stubs
                .blockingStub()
                .getWorkflowExecutionHistory(
                    GetWorkflowExecutionHistoryRequest.newBuilder()
                        .setNamespace(ns)
                        .setExecution(execution)
                        .setNextPageToken(page)
                        .build());
        events += response.getHistory().getEventsCount();
        // The whole history as bytes: payloads, failures, memos, search attributes, summaries.
        assertThat(response.getHistory().toByteString().toStringUtf8())
            .as("history of " + execution.getWorkflowId())
            .doesNotContain(SandboxVault.MARKER);
        page = response.getNextPageToken();
      } while (!page.isEmpty());
      assertThat(events).isPositive();
    }
  }

  /** A push to the merge request: GitLab's update action with the previous head as oldrev. */
  private HttpResponse<String> push(String sha) throws IOException, InterruptedException {
    String body =
        new String(
                new ClassPathResource("gitlab/merge-request-open.json").getContentAsByteArray(),
                StandardCharsets.UTF_8)
            .replace("\"action\": \"open\"", "\"action\": \"update\"")
            .replace(
                "\"id\": \"da1560886d4f094c3e6c9ef40349f7d38b5d27d7\"", "\"id\": \"" + sha + "\"")
            .replace(
                "\"labels\": [],\n    \"action\"",
                "\"oldrev\": \"da1560886d4f094c3e6c9ef40349f7d38b5d27d7\",\n    \"labels\": [],\n    \"action\"");
    return http.send(
        HttpRequest.newBuilder(uri("/webhooks/gitlab"))
            .header("Content-Type", "application/json")
            .header("X-Gitlab-Event", "Merge Request Hook")
            .header("X-Gitlab-Token", webhookToken)
            .header("Idempotency-Key", "push-" + sha)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode awaitGitLab(Predicate<JsonNode> done) throws Exception {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(uri("/sandbox/inventory")).build(),
              HttpResponse.BodyHandlers.ofString());
      last = json.readTree(r.body()).get("gitlab");
      if (done.test(last)) {
        return last;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("sandbox GitLab did not get there; last: " + last);
  }

  private static long size(JsonNode gitlab, String list, String state) {
    long n = 0;
    for (JsonNode entry : gitlab.get(list)) {
      if (state.equals(entry.get("state").asString())) {
        n++;
      }
    }
    return n;
  }

  private List<String> summaries(String workflowId) {
    List<String> summaries = new ArrayList<>();
    for (HistoryEvent event : temporal.fetchHistory(workflowId).getEvents()) {
      if (event.hasUserMetadata() && event.getUserMetadata().hasSummary()) {
        summaries.add(event.getUserMetadata().getSummary().getData().toStringUtf8());
      }
    }
    return summaries;
  }

  /** Search attributes to find the app by, and summaries that make its history a story. */
  private void theTemporalUiCanFindAndReadIt(String workflowId, String url)
      throws InterruptedException {
    WorkflowExecutionDescription description =
        temporal.newUntypedWorkflowStub(workflowId).describe();
    SearchAttributes attributes = description.getTypedSearchAttributes();
    assertThat(attributes.get(EphemeraSearchAttributes.KIND)).isEqualTo("review-app");
    assertThat(attributes.get(EphemeraSearchAttributes.PROJECT_ID)).isEqualTo(4242L);
    assertThat(attributes.get(EphemeraSearchAttributes.MR_IID)).isEqualTo(7L);
    assertThat(attributes.get(EphemeraSearchAttributes.PHASE)).isEqualTo("READY");
    assertThat(attributes.get(EphemeraSearchAttributes.ENVIRONMENT_URL)).isEqualTo(url);

    List<String> summaries = summaries(workflowId);
    // The auto-stop timer starts once GitLab has been told; give it a moment.
    for (int i = 0; i < 100 && summaries.stream().noneMatch(x -> x.contains("Auto-stop")); i++) {
      Thread.sleep(100);
      summaries = summaries(workflowId);
    }
    // The workflow's static summary is set by the api (WebhookRouter), but the SDK's test server
    // drops it on signal-with-start; a real server shows it.
    assertThat(summaries)
        .anyMatch(s -> s.contains("Ensure namespace review-4242-mr-7"))
        .anyMatch(s -> s.contains("Roll out da156088"))
        .anyMatch(s -> s.contains("Auto-stop in"));
  }

  private HttpResponse<String> postWebhook(String fixture, String idempotencyKey)
      throws IOException, InterruptedException {
    byte[] body = new ClassPathResource(fixture).getContentAsByteArray();
    HttpRequest request =
        HttpRequest.newBuilder(uri("/webhooks/gitlab"))
            .header("Content-Type", "application/json")
            .header("X-Gitlab-Event", "Merge Request Hook")
            .header("X-Gitlab-Token", webhookToken)
            .header("Idempotency-Key", idempotencyKey)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  private JsonNode awaitStatus(String path, Predicate<JsonNode> done) throws Exception {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer e2e-token").build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) {
        last = json.readTree(r.body());
        if (done.test(last)) {
          return last;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("condition not reached within " + DEADLINE + "; last status: " + last);
  }

  private java.util.List<String> namespaceNames() throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(uri("/sandbox/inventory")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    java.util.List<String> names = new java.util.ArrayList<>();
    json.readTree(r.body()).get("namespaces").forEach(n -> names.add(n.get("name").asString()));
    return names;
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? null : v.asString();
  }
}
