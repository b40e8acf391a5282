package io.ephemera.activity.gitlab;

import static io.ephemera.activity.gitlab.GitLabRunnerActivitiesImplTest.job;
import static io.ephemera.activity.gitlab.GitLabRunnerActivitiesImplTest.json;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GitLabJobTagsLookupTest {
  MockWebServer server;
  GitLabJobTagsLookup lookup;

  @BeforeEach
  void setUp() throws IOException {
    server = new MockWebServer();
    server.start(InetAddress.getLoopbackAddress(), 0);
    GitLabProperties props = GitLabProperties.of(server.url("/").toString(), "glpat-x");
    lookup =
        new GitLabJobTagsLookup(
            GitLabRunnerActivitiesImplTest.client(server.url("/").toString()),
            java.time.Duration.ofMillis(300));
    assertThat(props.jobTagsTimeout()).isEqualTo(java.time.Duration.ofSeconds(2));
  }

  @AfterEach
  void tearDown() {
    server.close();
  }

  @Test
  void tagsComeFromTheJobsTagList() throws Exception {
    server.enqueue(json(200, job(7, "pending", "null")));

    assertThat(lookup.tags(42, 7)).containsExactly("docker", "large");
    assertThat(server.takeRequest(1, TimeUnit.SECONDS).getUrl().encodedPath())
        .isEqualTo("/api/v4/projects/42/jobs/7");
  }

  @Test
  void anUnknownJobHasNoTagsInsteadOfAnError() {
    server.enqueue(json(404, "{\"message\":\"404 Not found\"}"));

    assertThat(lookup.tags(42, 7)).isEmpty();
  }

  @Test
  void aServerErrorHasNoTagsInsteadOfAnError() {
    server.enqueue(json(500, "{\"message\":\"500 Internal Server Error\"}"));

    assertThat(lookup.tags(42, 7)).isEmpty();
  }

  @Test
  void aSlowGitLabIsNotWaitedForLongerThanTheTimeout() {
    server.enqueue(
        json(200, job(7, "pending", "null"))
            .newBuilder()
            .headersDelay(3, TimeUnit.SECONDS)
            .build());

    long start = System.nanoTime();
    assertThat(lookup.tags(42, 7)).isEmpty();
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(2_000);
  }
}
