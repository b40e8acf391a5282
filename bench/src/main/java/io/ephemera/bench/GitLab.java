package io.ephemera.bench;

import io.ephemera.common.WorkflowIds;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Executors;

/**
 * Deliveries as GitLab posts them to {@code /webhooks/gitlab}: the fields the webhook reads (see
 * {@code MergeRequestEvent} and {@code JobHookEvent} in the api module), the token, the event
 * header and the Idempotency-Key.
 */
final class GitLab {
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .executor(Executors.newVirtualThreadPerTaskExecutor())
          .build();
  private final URI webhook;
  private final String token;

  GitLab(App app) {
    this.webhook = URI.create("http://127.0.0.1:" + app.port + "/webhooks/gitlab");
    this.token = app.webhookToken;
  }

  /** One delivery's answer and how long it took to come. */
  record Answer(int status, String body, long nanos) {}

  Answer post(String event, String idempotencyKey, String body)
      throws IOException, InterruptedException {
    HttpRequest.Builder r =
        HttpRequest.newBuilder(webhook)
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .header("X-Gitlab-Event", event)
            .header("X-Gitlab-Token", token)
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (idempotencyKey != null) {
      r.header("Idempotency-Key", idempotencyKey);
    }
    long start = System.nanoTime();
    HttpResponse<String> response = http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    return new Answer(response.statusCode(), response.body(), System.nanoTime() - start);
  }

  Answer mergeRequest(String key, String body) throws IOException, InterruptedException {
    return post("Merge Request Hook", key, body);
  }

  Answer job(String key, String body) throws IOException, InterruptedException {
    return post("Job Hook", key, body);
  }

  /** A deterministic 40-hex commit SHA for (project, MR, n). */
  static String sha(long project, long iid, int n) {
    byte[] b = new byte[20];
    long head = (n + 1) * 0x9E3779B97F4A7C15L ^ (project * 1_000_003L + iid);
    long tail = project * 1_000_003L + iid;
    for (int i = 0; i < 8; i++) {
      // The commit varies first: short SHAs in logs and summaries tell the pushes apart.
      b[i] = (byte) (head >>> (8 * i));
      b[8 + i] = (byte) (tail >>> (8 * i));
    }
    b[16] = (byte) 0xbe;
    b[17] = (byte) 0x4c;
    b[18] = (byte) n;
    b[19] = (byte) (n >>> 8);
    return HexFormat.of().formatHex(b);
  }

  /**
   * A Merge Request Hook: {@code open}, {@code update} (a push: {@code oldrev} set), {@code close}.
   */
  static String mergeRequest(long project, long iid, String action, String sha, String oldrev) {
    String path = "bench/project-" + project;
    return """
        {"object_kind": "merge_request", "event_type": "merge_request",
         "user": {"id": 1, "name": "Bench", "username": "bench"},
         "project": {"id": %d, "name": "project-%d", "path_with_namespace": "%s",
                     "web_url": "http://gitlab.localhost/%s"},
         "object_attributes": {"iid": %d, "id": %d, "title": "Benchmark MR %d",
           "action": "%s", "state": "%s", "source_branch": "feature-%d",
           "target_branch": "main", "source_project_id": %d, "target_project_id": %d,
           %s"last_commit": {"id": "%s", "message": "bench"}},
         "labels": [], "changes": {}}"""
        .formatted(
            project,
            project,
            path,
            path,
            iid,
            project * 100_000 + iid,
            iid,
            action,
            "close".equals(action) ? "closed" : "opened",
            iid,
            project,
            project,
            oldrev == null ? "" : "\"oldrev\": \"" + oldrev + "\", ",
            sha);
  }

  /** A Job Hook for job {@code jobId} of {@code project}; {@code runnerId} once a runner has it. */
  static String job(long project, long jobId, String status, Long runnerId) {
    String runner =
        runnerId == null
            ? "null"
            : """
              {"id": %d, "description": "%s", "runner_type": "project_type",
               "active": true, "is_shared": false, "tags": []}"""
                .formatted(
                    runnerId, WorkflowIds.runnerDescription(WorkflowIds.runner(project, jobId)));
    return """
        {"object_kind": "build", "ref": "main", "tag": false,
         "sha": "2293ada6b400935a1378653304eaf6221e0fdb8f",
         "build_id": %d, "build_name": "test", "build_stage": "test", "build_status": "%s",
         "pipeline_id": 2366, "runner": %s, "project_id": %d,
         "project_name": "bench/project-%d",
         "project": {"id": %d, "name": "project-%d", "path_with_namespace": "bench/project-%d"},
         "tag_list": []}"""
        .formatted(jobId, status, runner, project, project, project, project, project);
  }
}
