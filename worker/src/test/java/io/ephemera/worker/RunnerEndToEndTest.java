package io.ephemera.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.common.EphemeraSearchAttributes;
import io.ephemera.common.WorkflowIds;
import io.ephemera.sandbox.SandboxGitLab;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.common.SearchAttributes;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Single-use runners in the local profile, driven only through Job Hooks and the REST API: a
 * pending job gets a registered runner and compute in the sandboxes; the job finishing on that
 * runner makes both disappear.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "ephemera.temporal.embedded-port=0",
      "ephemera.api.tokens=e2e-token",
      "ephemera.sandbox.ec2.state-delay=100ms",
      "ephemera.runners.routing.rules[0].job-name=ec2-*",
      "ephemera.runners.routing.rules[0].route.name=ec2-small",
      "ephemera.runners.routing.rules[0].route.type=EC2",
      "ephemera.runners.routing.rules[0].route.ami=ami-0123456789abcdef0",
      "ephemera.runners.routing.rules[0].route.instance-type=t3.small"
    })
@ActiveProfiles("local")
class RunnerEndToEndTest {
  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static final long PROJECT = 380;
  private final HttpClient http = HttpClient.newHttpClient();
  private final JsonMapper json = JsonMapper.builder().build();

  @LocalServerPort int port;
  @Autowired SandboxGitLab gitlab;
  @Autowired WorkflowClient temporal;

  @Test
  void aKubernetesRunnerServesItsJobAndLeavesNothingBehind() throws Exception {
    long jobId = 1977;
    gitlab.seedJob(PROJECT, jobId, "test", "pending", List.of());

    HttpResponse<String> accepted = jobHook(jobId, "test", "pending", null);
    assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
    assertThat(accepted.body()).contains("\"accepted\":\"runner\"").contains("local-default");

    JsonNode waiting = awaitRunner(jobId, s -> "WAITING".equals(text(s, "phase")));
    long runnerId = waiting.get("runnerId").asLong();
    assertThat(runnerIds()).contains(runnerId);
    assertThat(runnerPods()).hasSize(1);

    gitlab.setJobStatus(PROJECT, jobId, "running", runnerId);
    assertThat(jobHook(jobId, "test", "running", runnerId).statusCode()).isEqualTo(202);
    awaitRunner(jobId, s -> "RUNNING".equals(text(s, "phase")));
    gitlab.setJobStatus(PROJECT, jobId, "success", runnerId);
    assertThat(jobHook(jobId, "test", "success", runnerId).statusCode()).isEqualTo(202);

    JsonNode finished = awaitRunner(jobId, s -> "FINISHED".equals(text(s, "phase")));
    assertThat(text(finished, "outcome")).isEqualTo("success");
    assertThat(finished.get("jobsRun").asInt()).isEqualTo(1);
    List<String> phases = new ArrayList<>();
    finished.get("history").forEach(h -> phases.add(h.get("phase").asString()));
    assertThat(phases)
        .containsSubsequence(
            "REGISTERING", "PROVISIONING", "WAITING", "RUNNING", "DRAINING", "FINISHED");
    assertThat(runnerIds()).doesNotContain(runnerId);
    assertThat(runnerPods()).isEmpty();

    String workflowId = WorkflowIds.runner(PROJECT, jobId);
    SearchAttributes attributes =
        temporal.newUntypedWorkflowStub(workflowId).describe().getTypedSearchAttributes();
    assertThat(attributes.get(EphemeraSearchAttributes.KIND)).isEqualTo("runner");
    assertThat(attributes.get(EphemeraSearchAttributes.JOB_ID)).isEqualTo(jobId);
    assertThat(attributes.get(EphemeraSearchAttributes.PHASE)).isEqualTo("FINISHED");
    assertThat(temporal.newUntypedWorkflowStub(workflowId).describe().getStaticSummary())
        .isEqualTo("Runner for gitlab-org/gitlab-test job test #1977");
    List<String> summaries = new ArrayList<>();
    for (HistoryEvent event : temporal.fetchHistory(workflowId).getEvents()) {
      if (event.hasUserMetadata() && event.getUserMetadata().hasSummary()) {
        summaries.add(event.getUserMetadata().getSummary().getData().toStringUtf8());
      }
    }
    assertThat(summaries)
        .anyMatch(x -> x.contains("Read runner settings"))
        .anyMatch(x -> x.contains("Register a runner for job 1977"))
        .anyMatch(x -> x.contains("Start KUBERNETES compute"))
        .anyMatch(x -> x.contains("Terminate compute"))
        .anyMatch(x -> x.contains("Delete the GitLab runner"));
  }

  @Test
  void anEc2RunnerServesItsJobAndLeavesNothingBehind() throws Exception {
    long jobId = 2024;
    gitlab.seedJob(PROJECT, jobId, "ec2-build", "pending", List.of());

    HttpResponse<String> accepted = jobHook(jobId, "ec2-build", "pending", null);
    assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
    assertThat(accepted.body()).contains("ec2-small");

    JsonNode waiting = awaitRunner(jobId, s -> "WAITING".equals(text(s, "phase")));
    long runnerId = waiting.get("runnerId").asLong();
    String instanceId = text(waiting, "computeId");
    assertThat(instanceIds()).contains(instanceId);

    gitlab.setJobStatus(PROJECT, jobId, "running", runnerId);
    jobHook(jobId, "ec2-build", "running", runnerId);
    gitlab.setJobStatus(PROJECT, jobId, "failed", runnerId);
    jobHook(jobId, "ec2-build", "failed", runnerId);

    JsonNode finished = awaitRunner(jobId, s -> "FINISHED".equals(text(s, "phase")));
    assertThat(text(finished, "outcome")).isEqualTo("failed");
    assertThat(runnerIds()).doesNotContain(runnerId);
    assertThat(instanceIds()).doesNotContain(instanceId);
  }

  @Test
  void aJobCancelledBeforePickupTearsItsRunnerDown() throws Exception {
    long jobId = 3033;
    gitlab.seedJob(PROJECT, jobId, "test", "pending", List.of());
    assertThat(jobHook(jobId, "test", "pending", null).statusCode()).isEqualTo(202);
    JsonNode waiting = awaitRunner(jobId, s -> "WAITING".equals(text(s, "phase")));
    long runnerId = waiting.get("runnerId").asLong();

    gitlab.setJobStatus(PROJECT, jobId, "canceled");
    assertThat(jobHook(jobId, "test", "canceled", null).statusCode()).isEqualTo(202);

    JsonNode finished = awaitRunner(jobId, s -> "FINISHED".equals(text(s, "phase")));
    assertThat(finished.get("jobsRun").asInt()).isZero();
    assertThat(text(finished, "outcome")).contains("before pickup");
    assertThat(runnerIds()).doesNotContain(runnerId);
    assertThat(runnerPods()).isEmpty();
  }

  private HttpResponse<String> jobHook(long jobId, String name, String status, Long runnerId)
      throws Exception {
    String runner =
        runnerId == null
            ? "null"
            : """
              {"id": %d, "description": "%s", "runner_type": "project_type",
               "active": true, "is_shared": false, "tags": []}"""
                .formatted(
                    runnerId, WorkflowIds.runnerDescription(WorkflowIds.runner(PROJECT, jobId)));
    String body =
        """
        {"object_kind": "build", "ref": "main", "tag": false,
         "sha": "2293ada6b400935a1378653304eaf6221e0fdb8f",
         "build_id": %d, "build_name": "%s", "build_stage": "test", "build_status": "%s",
         "pipeline_id": 2366, "runner": %s, "project_id": %d,
         "project_name": "gitlab-org/gitlab-test",
         "project": {"id": %d, "name": "Gitlab Test",
                     "path_with_namespace": "gitlab-org/gitlab-test"}}"""
            .formatted(jobId, name, status, runner, PROJECT, PROJECT);
    return http.send(
        HttpRequest.newBuilder(uri("/webhooks/gitlab"))
            .header("Content-Type", "application/json")
            .header("X-Gitlab-Event", "Job Hook")
            .header("X-Gitlab-Token", "local-webhook-token")
            .header("Idempotency-Key", "job-" + jobId + "-" + status)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode awaitRunner(long jobId, Predicate<JsonNode> done) throws Exception {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(uri("/api/v1/runners/" + PROJECT + "/" + jobId))
                  .header("Authorization", "Bearer e2e-token")
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) {
        last = json.readTree(r.body());
        if (done.test(last)) {
          return last;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("condition not reached within " + DEADLINE + "; last: " + last);
  }

  private JsonNode inventory() throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(uri("/sandbox/inventory")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return json.readTree(r.body());
  }

  private List<Long> runnerIds() throws Exception {
    List<Long> ids = new ArrayList<>();
    inventory().get("runners").forEach(r -> ids.add(r.get("id").asLong()));
    return ids;
  }

  private List<String> instanceIds() throws Exception {
    List<String> ids = new ArrayList<>();
    inventory().get("instances").forEach(i -> ids.add(i.get("id").asString()));
    return ids;
  }

  private List<String> runnerPods() throws Exception {
    List<String> pods = new ArrayList<>();
    for (JsonNode ns : inventory().get("namespaces")) {
      if ("ephemera-runners".equals(ns.get("name").asString())) {
        ns.get("objects")
            .forEach(
                o -> {
                  if ("Pod".equals(o.get("kind").asString())) {
                    pods.add(o.get("name").asString());
                  }
                });
      }
    }
    return pods;
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? null : v.asString();
  }
}
