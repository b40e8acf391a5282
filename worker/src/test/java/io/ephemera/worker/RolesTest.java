package io.ephemera.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.common.TaskQueues;
import io.ephemera.worker.config.EphemeraWorker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.ActiveProfiles;

/** {@code ephemera.roles} decides what runs; the sandbox inventory exists only with a sandbox. */
class RolesTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  static int get(int port, String path) throws Exception {
    return HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  static int postWebhook(int port) throws Exception {
    return HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/webhooks/gitlab"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  @Nested
  @SpringBootTest(
      webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
      properties = {"ephemera.temporal.embedded-port=0", "ephemera.roles=worker"})
  @ActiveProfiles("local")
  class WorkerOnly {
    @Autowired ApplicationContext context;
    @LocalServerPort int port;

    @Test
    void runsTheWorkerButNoWebhookEndpoint() throws Exception {
      assertThat(context.getBeansOfType(EphemeraWorker.class)).hasSize(1);
      assertThat(context.getBean(EphemeraWorker.class).taskQueues())
          .containsExactlyInAnyOrder(
              TaskQueues.REVIEW_APPS, TaskQueues.RUNNERS, TaskQueues.RECONCILER);
      assertThat(postWebhook(port)).isEqualTo(404);
      assertThat(get(port, "/actuator/health")).isEqualTo(200);
    }
  }

  @Nested
  @SpringBootTest(
      webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
      properties = {
        "ephemera.temporal.embedded-port=0",
        "ephemera.roles=api",
        "ephemera.kubernetes.sandbox=false",
        // A real (unreachable) GitLab: no sandbox GitLab either, so no sandbox at all.
        "ephemera.gitlab.url=http://127.0.0.1:9",
        "ephemera.gitlab.token=unused-in-this-test"
      })
  @ActiveProfiles("local")
  class ApiOnlyWithoutSandbox {
    @Autowired ApplicationContext context;
    @LocalServerPort int port;

    @Test
    void servesWebhooksButRunsNoWorker() throws Exception {
      assertThat(context.getBeansOfType(EphemeraWorker.class)).isEmpty();
      // Reached the webhook controller: no token, so 401 rather than 404.
      assertThat(postWebhook(port)).isEqualTo(401);
    }

    @Test
    void theSandboxInventoryIs404() throws Exception {
      assertThat(get(port, "/sandbox/inventory")).isEqualTo(404);
    }
  }
}
