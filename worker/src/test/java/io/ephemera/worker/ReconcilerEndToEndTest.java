package io.ephemera.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.activity.credentials.LeaseIndex;
import io.ephemera.common.WorkflowIds;
import io.ephemera.reconciler.ReconcilerStatus;
import io.ephemera.reconciler.ReconcilerWorkflow;
import io.ephemera.reviewapp.ReviewAppPhase;
import io.ephemera.reviewapp.ReviewAppStatus;
import io.ephemera.reviewapp.ReviewAppWorkflow;
import io.ephemera.sandbox.SandboxCluster;
import io.ephemera.sandbox.SandboxEc2;
import io.ephemera.sandbox.SandboxGitLab;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.io.ClassPathResource;
import org.springframework.test.context.ActiveProfiles;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The reconciler in the local profile, with a short interval and grace period: what was terminated
 * by hand is reaped, what a running workflow owns survives, a failing source blocks reaping until a
 * healthy pass, and merge requests no webhook announced (seeded in the sandbox GitLab from {@code
 * reconciler/seed.yaml}) get their review app, and lose it when closed.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "ephemera.temporal.embedded-port=0",
      "ephemera.api.tokens=e2e-token",
      "ephemera.sandbox.kubernetes.rollout-delay=200ms",
      "ephemera.sandbox.ec2.state-delay=100ms",
      "ephemera.runners.routing.rules[0].job-name=ec2-*",
      "ephemera.runners.routing.rules[0].route.name=ec2-small",
      "ephemera.runners.routing.rules[0].route.type=EC2",
      "ephemera.runners.routing.rules[0].route.ami=ami-0123456789abcdef0",
      "ephemera.runners.routing.rules[0].route.instance-type=t3.small",
      "ephemera.reconciler.interval=1s",
      "ephemera.reconciler.jitter=0s",
      "ephemera.reconciler.grace=3s",
      "ephemera.reconciler.reap-timeout=20s",
      "ephemera.sandbox.gitlab.seed=src/test/resources/reconciler/seed.yaml"
    })
@ActiveProfiles("local")
class ReconcilerEndToEndTest {
  private static final Duration DEADLINE = Duration.ofSeconds(60);
  private static final long RUNNER_PROJECT = 380;
  private static final String SHA = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";
  private static final String HELD_SHA = "b0a3c2e1d4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9";
  private static final String RUNNING_BUILD_SHA = "c0ffee0d4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c";
  private static final String BUILD_NAMESPACE = "ephemera-builds";
  private final HttpClient http = HttpClient.newHttpClient();
  private final JsonMapper json = JsonMapper.builder().build();

  @LocalServerPort int port;
  @Autowired WorkflowClient temporal;
  @Autowired SandboxGitLab gitlab;
  @Autowired SandboxCluster cluster;
  @Autowired SandboxEc2 ec2;
  @Autowired LeaseIndex leaseIndex;

  @Test
  void whatAWorkflowTerminatedByHandLeftIsGoneWithinAPassAfterTheGracePeriod() throws Exception {
    String namespace = openReviewApp(4242, 21, SHA);
    long podJob = 7001;
    long ec2Job = 7002;
    long podRunner = startRunner(podJob, "test");
    long ec2Runner = startRunner(ec2Job, "ec2-build");
    String instance = text(runner(ec2Job), "computeId");
    // The pull credential in the review namespace; the build's were revoked after the build.
    List<String> leases = leasesOf(WorkflowIds.reviewApp(4242, 21));
    assertThat(leases).isNotEmpty();
    assertThat(leaseStates(leases)).containsOnly("active");
    assertThat(namespaces()).contains(namespace);
    assertThat(runnerPods()).contains("runner-380-job-7001");
    assertThat(instances()).contains(instance);
    assertThat(gitlabRunners()).contains(podRunner, ec2Runner);

    // The jobs end without a hook, and the workflows are terminated: no compensation runs.
    gitlab.setJobStatus(RUNNER_PROJECT, podJob, "canceled");
    gitlab.setJobStatus(RUNNER_PROJECT, ec2Job, "canceled");
    awaitPasses(2); // no pass that saw the jobs pending is still under way
    for (String id :
        List.of(
            WorkflowIds.reviewApp(4242, 21),
            WorkflowIds.runner(RUNNER_PROJECT, podJob),
            WorkflowIds.runner(RUNNER_PROJECT, ec2Job))) {
      temporal.newUntypedWorkflowStub(id).terminate("terminated by hand in a test");
    }
    assertThat(namespaces()).contains(namespace);
    assertThat(instances()).contains(instance);
    assertThat(leaseStates(leases)).containsOnly("active");

    await(
        () ->
            !namespaces().contains(namespace)
                && !runnerPods().contains("runner-380-job-7001")
                && !instances().contains(instance)
                && !gitlabRunners().contains(podRunner)
                && !gitlabRunners().contains(ec2Runner)
                && leaseStates(leases).stream().allMatch("revoked"::equals),
        "every leftover reaped");
    assertThat(leasesOf(WorkflowIds.reviewApp(4242, 21))).as("left the lease index").isEmpty();
    // A pass records its counts after its reaps: the leftovers can be gone before the pass that
    // reaped them is counted. One more finished pass means it was.
    awaitPasses(1);

    JsonNode status = reconcilerStatus();
    assertThat(status.path("lastPass").path("dryRun").asBoolean()).isFalse();
    assertThat(status.path("lastPass").path("kinds").path("namespace").has("live")).isTrue();
    String metrics = get("/actuator/prometheus");
    assertThat(metrics)
        .contains("ephemera_reconciler_passes_total")
        .containsPattern("ephemera_orphans_found_total\\{[^}]*kind=\"namespace\"")
        .containsPattern("ephemera_orphans_reaped_total\\{[^}]*kind=\"namespace\"[^}]*} [1-9]")
        .containsPattern("ephemera_orphans_reaped_total\\{[^}]*kind=\"instance\"[^}]*} [1-9]")
        .containsPattern("ephemera_orphans_reaped_total\\{[^}]*kind=\"runner-pod\"[^}]*} [1-9]")
        .containsPattern("ephemera_orphans_reaped_total\\{[^}]*kind=\"gitlab-runner\"[^}]*} [1-9]")
        .containsPattern("ephemera_orphans_reaped_total\\{[^}]*kind=\"lease\"[^}]*} [1-9]")
        .containsPattern("ephemera_repairs_total\\{[^}]*kind=\"review-app-deploy\"")
        .containsPattern("ephemera_reconciler_source_errors_total\\{[^}]*source=\"kubernetes\"")
        .containsPattern("ephemera_managed_resources\\{[^}]*kind=\"namespace\"")
        .containsPattern("ephemera_oldest_resource_age_seconds\\{[^}]*kind=\"namespace\"");
  }

  @Test
  void whatARunningWorkflowOwnsSurvivesEveryPass() throws Exception {
    String namespace = openReviewApp(4242, 22, SHA);
    List<String> pullLeases = leasesOf(WorkflowIds.reviewApp(4242, 22));
    long job = 7101;
    long runnerId = startRunner(job, "test");
    // A review app whose build is still running: its Job, Secret and build leases are live.
    String building = WorkflowIds.reviewApp(4242, 23);
    cluster.holdBuildsOf(RUNNING_BUILD_SHA);
    try {
      assertThat(postMergeRequest(4242, 23, RUNNING_BUILD_SHA, "gitlabhq/gitlab-test", "open-23"))
          .extracting(HttpResponse::statusCode)
          .isEqualTo(202);
      String buildJob = awaitBuildJob(RUNNING_BUILD_SHA);
      List<String> buildLeases = awaitLeasesOf(building);
      Thread.sleep(3_500); // past the grace period: only the running owners protect them now

      awaitPasses(4);

      assertThat(namespaces()).contains(namespace);
      assertThat(runnerPods()).contains("runner-380-job-7101");
      assertThat(gitlabRunners()).contains(runnerId);
      assertThat(text(runner(job), "phase")).isEqualTo("WAITING");
      assertThat(leaseStates(pullLeases)).isNotEmpty().containsOnly("active");
      assertThat(buildJobs()).contains(buildJob);
      assertThat(buildSecrets()).contains(buildJob);
      assertThat(leaseStates(buildLeases)).containsOnly("active");
      assertThat(
              reconcilerStatus().path("lastPass").path("kinds").path("build").path("live").asLong())
          .isPositive();
    } finally {
      cluster.holdBuilds(null);
    }
    awaitReviewApp(building, s -> s.phase() == ReviewAppPhase.READY, "READY after its build");
  }

  @Test
  void aReviewAppTerminatedDuringItsBuildLeavesNoJobSecretOrLeaseBehind() throws Exception {
    String id = WorkflowIds.reviewApp(4242, 31);
    cluster.holdBuildsOf(HELD_SHA);
    try {
      assertThat(postMergeRequest(4242, 31, HELD_SHA, "gitlabhq/gitlab-test", "open-31"))
          .extracting(HttpResponse::statusCode)
          .isEqualTo(202);
      String buildJob = awaitBuildJob(HELD_SHA);
      List<String> leases = awaitLeasesOf(id);
      assertThat(buildSecrets()).contains(buildJob);

      // No cleanup runs: the build's own revocation and deleteBuild were the workflow's to do.
      temporal.newUntypedWorkflowStub(id).terminate("terminated by hand during its build");
      assertThat(buildJobs()).contains(buildJob);
      assertThat(buildSecrets()).contains(buildJob);
      assertThat(leaseStates(leases)).containsOnly("active");

      await(
          () ->
              !buildJobs().contains(buildJob)
                  && !buildSecrets().contains(buildJob)
                  && leaseStates(leases).stream().allMatch("revoked"::equals),
          "the build's Job, Secret and leases reaped");
      assertThat(leasesOf(id)).isEmpty();
      assertThat(get("/actuator/prometheus"))
          .containsPattern("ephemera_orphans_reaped_total\\{[^}]*kind=\"build\"[^}]*} [1-9]")
          .containsPattern("ephemera_managed_resources\\{[^}]*kind=\"build\"");
    } finally {
      cluster.holdBuilds(null);
    }
  }

  @Test
  void aFailingClusterOrGitLabBlocksReapingUntilAHealthyPass() throws Exception {
    long job = 7201;
    long runnerId = startRunner(job, "test");
    gitlab.setJobStatus(RUNNER_PROJECT, job, "canceled");
    awaitPasses(2);
    temporal.newUntypedWorkflowStub(WorkflowIds.runner(RUNNER_PROJECT, job)).terminate("by hand");

    cluster.failRequests(true);
    gitlab.failFor(Duration.ofMinutes(5));
    try {
      Thread.sleep(3_500); // past the grace period
      long before = passes();
      awaitPasses(2);
      JsonNode last = reconcilerStatus().path("lastPass");
      assertThat(last.path("pass").asLong()).isGreaterThan(before);
      assertThat(last.path("errors").has("kubernetes")).as(last.toString()).isTrue();
      assertThat(last.path("errors").has("gitlab")).as(last.toString()).isTrue();
      assertThat(last.path("kinds").path("runner-pod").path("blockedBy").asString())
          .isEqualTo("kubernetes");
      assertThat(last.path("kinds").path("gitlab-runner").path("reaped").asLong()).isZero();
    } finally {
      cluster.failRequests(false);
      gitlab.failFor(Duration.ZERO);
    }
    assertThat(runnerPods()).contains("runner-380-job-7201");
    assertThat(gitlabRunners()).contains(runnerId);
    assertThat(get("/actuator/prometheus"))
        .containsPattern(
            "ephemera_reconciler_source_errors_total\\{[^}]*source=\"gitlab\"[^}]*} [1-9]");

    await(
        () -> !runnerPods().contains("runner-380-job-7201") && !gitlabRunners().contains(runnerId),
        "the next healthy pass reaps");
  }

  @Test
  void aMergeRequestNoWebhookAnnouncedGetsItsReviewAppAndLosesItWhenMerged() throws Exception {
    // Merge request !3 of project 5151 is in the seed file: no webhook ever came.
    String id = WorkflowIds.reviewApp(5151, 3);
    ReviewAppStatus ready =
        awaitReviewApp(id, s -> s.phase() == ReviewAppPhase.READY, "repaired review app READY");
    assertThat(ready.sha()).isEqualTo("3".repeat(40));
    assertThat(ready.projectPath()).isEqualTo("acme/shop");
    assertThat(ready.deployments()).isEqualTo(1);

    gitlab.setMergeRequestState(5151, 3, "merged");

    await(
        () ->
            temporal.newUntypedWorkflowStub(id).describe().getStatus()
                == io.temporal.api.enums.v1.WorkflowExecutionStatus
                    .WORKFLOW_EXECUTION_STATUS_COMPLETED,
        "review app stopped");
    ReviewAppStatus stopped =
        temporal
            .newUntypedWorkflowStub(id)
            .getResult(io.ephemera.reviewapp.ReviewAppResult.class)
            .finalStatus();
    assertThat(stopped.phase()).isEqualTo(ReviewAppPhase.STOPPED);
    assertThat(stopped.stopReason()).isEqualTo("merge request merged");
    assertThat(namespaces()).doesNotContain(ready.namespace());
  }

  @Test
  void aWebhookArrivingDuringARepairMakesOneWorkflowAndOneDeploy() throws Exception {
    String sha = "4".repeat(40);
    gitlab.seedMergeRequest(5151, 4, sha, "feature/checkout", "Checkout");
    // The webhook and the reconciler's next pass race for the same merge request.
    temporal
        .newUntypedWorkflowStub(ReconcilerWorkflow.ID)
        .signal(ReconcilerWorkflow.SIGNAL_PASS_NOW);
    HttpResponse<String> hook = postMergeRequest(5151, 4, sha, "acme/shop", "race-4");
    assertThat(hook.statusCode()).as(hook.body()).isEqualTo(202);

    String id = WorkflowIds.reviewApp(5151, 4);
    awaitReviewApp(id, s -> s.phase() == ReviewAppPhase.READY, "READY");
    awaitPasses(2); // the reconciler has looked at it again since
    ReviewAppStatus status =
        temporal
            .newUntypedWorkflowStub(id)
            .query(ReviewAppWorkflow.QUERY_STATUS, ReviewAppStatus.class);
    assertThat(status.deployments()).isEqualTo(1);
    assertThat(status.sha()).isEqualTo(sha);
    List<String> runs = new ArrayList<>();
    int rollouts = 0;
    for (HistoryEvent e : temporal.fetchHistory(id).getEvents()) {
      if (e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) {
        runs.add(e.getWorkflowExecutionStartedEventAttributes().getOriginalExecutionRunId());
      }
      if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
          && e.getActivityTaskScheduledEventAttributes()
              .getActivityType()
              .getName()
              .equals("KubernetesAwaitRollout")) {
        rollouts++;
      }
    }
    assertThat(runs).hasSize(1);
    assertThat(rollouts).isEqualTo(1);
  }

  @Test
  void aPendingJobWithoutItsJobHookGetsItsRunner() throws Exception {
    long job = 7301;
    gitlab.seedJob(RUNNER_PROJECT, job, "test", "pending", List.of());
    JsonNode waiting = awaitRunner(job, s -> "WAITING".equals(text(s, "phase")));
    assertThat(waiting.get("runnerId").asLong()).isPositive();
    gitlab.setJobStatus(RUNNER_PROJECT, job, "canceled");
  }

  // ---- helpers ----

  private String openReviewApp(long project, long iid, String sha) throws Exception {
    HttpResponse<String> opened =
        postMergeRequest(project, iid, sha, "gitlabhq/gitlab-test", "open-" + project + "-" + iid);
    assertThat(opened.statusCode()).as(opened.body()).isEqualTo(202);
    ReviewAppStatus ready =
        awaitReviewApp(
            WorkflowIds.reviewApp(project, iid), s -> s.phase() == ReviewAppPhase.READY, "READY");
    return ready.namespace();
  }

  private HttpResponse<String> postMergeRequest(
      long project, long iid, String sha, String path, String key) throws Exception {
    String body =
        new String(
                new ClassPathResource("gitlab/merge-request-open.json")
                    .getInputStream()
                    .readAllBytes(),
                StandardCharsets.UTF_8)
            .replace("4242", Long.toString(project))
            .replace("\"iid\": 7", "\"iid\": " + iid)
            .replace(SHA, sha)
            .replace("gitlabhq/gitlab-test", path);
    return http.send(
        HttpRequest.newBuilder(uri("/webhooks/gitlab"))
            .header("Content-Type", "application/json")
            .header("X-Gitlab-Event", "Merge Request Hook")
            .header("X-Gitlab-Token", "local-webhook-token")
            .header("Idempotency-Key", key)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private long startRunner(long jobId, String name) throws Exception {
    gitlab.seedJob(RUNNER_PROJECT, jobId, name, "pending", List.of());
    String body =
        """
        {"object_kind": "build", "ref": "main", "tag": false,
         "sha": "2293ada6b400935a1378653304eaf6221e0fdb8f",
         "build_id": %d, "build_name": "%s", "build_stage": "test", "build_status": "pending",
         "pipeline_id": 2366, "runner": null, "project_id": %d,
         "project_name": "gitlab-org/gitlab-test",
         "project": {"id": %d, "name": "Gitlab Test",
                     "path_with_namespace": "gitlab-org/gitlab-test"}}"""
            .formatted(jobId, name, RUNNER_PROJECT, RUNNER_PROJECT);
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(uri("/webhooks/gitlab"))
                .header("Content-Type", "application/json")
                .header("X-Gitlab-Event", "Job Hook")
                .header("X-Gitlab-Token", "local-webhook-token")
                .header("Idempotency-Key", "job-" + jobId)
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return awaitRunner(jobId, s -> "WAITING".equals(text(s, "phase"))).get("runnerId").asLong();
  }

  private JsonNode runner(long jobId) throws Exception {
    return json.readTree(get("/api/v1/runners/" + RUNNER_PROJECT + "/" + jobId));
  }

  private JsonNode awaitRunner(long jobId, java.util.function.Predicate<JsonNode> done)
      throws Exception {
    JsonNode[] last = new JsonNode[1];
    await(
        () -> {
          HttpResponse<String> r = send("/api/v1/runners/" + RUNNER_PROJECT + "/" + jobId);
          if (r.statusCode() != 200) {
            return false;
          }
          last[0] = json.readTree(r.body());
          return done.test(last[0]);
        },
        "runner of job " + jobId);
    return last[0];
  }

  private ReviewAppStatus awaitReviewApp(
      String id, java.util.function.Predicate<ReviewAppStatus> done, String what) throws Exception {
    ReviewAppStatus[] last = new ReviewAppStatus[1];
    await(
        () -> {
          try {
            last[0] =
                temporal
                    .newUntypedWorkflowStub(id)
                    .query(ReviewAppWorkflow.QUERY_STATUS, ReviewAppStatus.class);
            return done.test(last[0]);
          } catch (RuntimeException notYet) {
            return false;
          }
        },
        what + " of " + id);
    return last[0];
  }

  private long passes() {
    return reconciler().passes();
  }

  private ReconcilerStatus reconciler() {
    return temporal
        .newUntypedWorkflowStub(ReconcilerWorkflow.ID)
        .query(ReconcilerWorkflow.QUERY_STATUS, ReconcilerStatus.class);
  }

  /** Waits until {@code n} more passes have finished. */
  private void awaitPasses(int n) throws Exception {
    long target = passes() + n;
    await(() -> passes() >= target, n + " more reconciler passes");
  }

  private JsonNode reconcilerStatus() throws Exception {
    HttpResponse<String> r = send("/api/v1/reconciler");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return json.readTree(r.body());
  }

  private List<String> namespaces() {
    List<String> names = new ArrayList<>();
    cluster.inventory().forEach(n -> names.add(n.name()));
    return names;
  }

  private List<String> runnerPods() {
    List<String> pods = new ArrayList<>();
    for (SandboxCluster.NamespaceEntry n : cluster.inventory()) {
      if (n.name().equals("ephemera-runners")) {
        n.objects().stream().filter(o -> o.kind().equals("Pod")).forEach(o -> pods.add(o.name()));
      }
    }
    return pods;
  }

  /** Instances not going away (pending or running). */
  private List<String> instances() {
    List<String> ids = new ArrayList<>();
    for (SandboxEc2.InstanceEntry i : ec2.inventory().instances()) {
      if (i.state().equals("pending") || i.state().equals("running")) {
        ids.add(i.id());
      }
    }
    return ids;
  }

  /** Build Jobs still running, by name, for commit {@code sha}, once one exists. */
  private String awaitBuildJob(String sha) throws Exception {
    String[] name = new String[1];
    await(
        () -> {
          for (SandboxCluster.BuildEntry b : cluster.builds()) {
            if (sha.equals(b.sha()) && b.state().equals("running")) {
              name[0] = b.name();
              return true;
            }
          }
          return false;
        },
        "a running build Job of " + sha);
    return name[0];
  }

  private List<String> buildJobs() {
    List<String> names = new ArrayList<>();
    cluster.builds().forEach(b -> names.add(b.name()));
    return names;
  }

  private List<String> buildSecrets() {
    List<String> names = new ArrayList<>();
    for (SandboxCluster.NamespaceEntry n : cluster.inventory()) {
      if (n.name().equals(BUILD_NAMESPACE)) {
        n.objects().stream()
            .filter(o -> o.kind().equals("Secret"))
            .forEach(o -> names.add(o.name()));
      }
    }
    return names;
  }

  /** Lease ids the lease index holds for {@code workflowId}, as the reconciler pages them. */
  private List<String> leasesOf(String workflowId) {
    List<String> ids = new ArrayList<>();
    String cursor = null;
    do {
      LeaseIndex.Page page = leaseIndex.page(cursor, 100);
      page.entries().stream()
          .filter(e -> workflowId.equals(e.workflowId()))
          .forEach(e -> ids.add(e.leaseId()));
      cursor = page.next();
    } while (cursor != null);
    return ids;
  }

  /** The build's leases (source read, build cache), once its credentials are issued. */
  private List<String> awaitLeasesOf(String workflowId) throws Exception {
    List<String> ids = new ArrayList<>();
    await(
        () -> {
          ids.clear();
          ids.addAll(leasesOf(workflowId));
          return ids.size() >= 2;
        },
        "build leases of " + workflowId);
    return List.copyOf(ids);
  }

  /** The states {@code /sandbox/inventory} shows for these leases, in the same order. */
  private List<String> leaseStates(List<String> leaseIds) throws Exception {
    JsonNode inventory = json.readTree(get("/sandbox/inventory"));
    List<String> states = new ArrayList<>();
    for (String id : leaseIds) {
      for (JsonNode l : inventory.path("leases")) {
        if (id.equals(l.path("leaseId").asString())) {
          states.add(l.path("state").asString());
        }
      }
    }
    assertThat(states).as("every lease is in the inventory").hasSameSizeAs(leaseIds);
    return states;
  }

  private List<Long> gitlabRunners() {
    List<Long> ids = new ArrayList<>();
    gitlab.inventory().forEach(r -> ids.add(r.id()));
    return ids;
  }

  interface Check {
    boolean holds() throws Exception;
  }

  private static void await(Check check, String what) throws Exception {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (System.nanoTime() < deadline) {
      if (check.holds()) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError(what + ": not reached within " + DEADLINE);
  }

  private String get(String path) throws Exception {
    HttpResponse<String> r = send(path);
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
    return r.body();
  }

  private HttpResponse<String> send(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri(path)).header("Authorization", "Bearer e2e-token").build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? null : v.asString();
  }
}
