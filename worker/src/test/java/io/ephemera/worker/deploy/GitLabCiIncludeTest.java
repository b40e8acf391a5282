package io.ephemera.worker.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** The CI include in deploy/gitlab is well-formed and wires its environment to its stop job. */
class GitLabCiIncludeTest {
  private static final Path INCLUDE = Path.of("..", "deploy", "gitlab", "review-app.gitlab-ci.yml");

  @SuppressWarnings("unchecked")
  private static Map<String, Object> job(Map<String, Object> ci, String name) {
    assertThat(ci).containsKey(name);
    return (Map<String, Object>) ci.get(name);
  }

  @Test
  @SuppressWarnings("unchecked")
  void theReviewJobPublishesTheEnvironmentAndItsStopJobStopsIt() throws Exception {
    Map<String, Object> ci;
    try (Reader reader = Files.newBufferedReader(INCLUDE)) {
      ci = new Yaml().load(reader);
    }
    Map<String, Object> review = job(ci, "ephemera:review-app");
    Map<String, Object> environment = (Map<String, Object>) review.get("environment");
    assertThat(environment.get("name")).isEqualTo("review/mr-$CI_MERGE_REQUEST_IID");
    String stopJob = (String) environment.get("on_stop");

    Map<String, Object> stop = job(ci, stopJob);
    Map<String, Object> stopEnvironment = (Map<String, Object>) stop.get("environment");
    assertThat(stopEnvironment.get("name")).isEqualTo(environment.get("name"));
    assertThat(stopEnvironment.get("action")).isEqualTo("stop");
    assertThat(stop.get("when")).isEqualTo("manual");

    // Both jobs run only in merge-request pipelines and call Ephemera's REST API.
    for (Map<String, Object> j : new Map[] {review, stop}) {
      assertThat(j.get("extends")).isEqualTo(".ephemera");
      assertThat(String.join("\n", (Iterable<String>) j.get("script"))).contains("$EPHEMERA_APP");
    }
    assertThat(job(ci, ".ephemera").get("rules").toString()).contains("merge_request_event");
    assertThat(review.get("artifacts").toString()).contains("dotenv");
  }
}
