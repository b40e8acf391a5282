package io.ephemera.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ephemera.activity.gitlab.GitLabClient;
import io.ephemera.activity.gitlab.GitLabListings;
import io.ephemera.activity.gitlab.GitLabProperties;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the reconciler reads from the sandbox GitLab, through the real client, page by page. */
class SandboxGitLabListingsTest {
  private final SandboxGitLab sandbox = SandboxGitLab.start();
  private final GitLabListings gitlab =
      new GitLabListings(new GitLabClient(GitLabProperties.of(sandbox.url(), "t")));

  @AfterEach
  void stop() {
    sandbox.close();
  }

  @Test
  void aSeedFileGivesProjectsOpenMergeRequestsAndPendingJobs(@TempDir Path dir) throws Exception {
    Path seed = dir.resolve("seed.yaml");
    Files.writeString(
        seed,
        """
        projects:
          - id: 77
            path: acme/shop
            merge-requests:
              - {iid: 1, sha: "%s", source-branch: a, title: One}
              - {iid: 2, sha: "%s", source-branch: b, title: Two}
              - {iid: 3, sha: "%s", source-branch: c, title: Three}
            jobs:
              - {id: 501, name: test, tags: [docker]}
              - {id: 502, name: lint}
        """
            .formatted("1".repeat(40), "2".repeat(40), "3".repeat(40)));
    sandbox.seed(seed);
    sandbox.setMergeRequestState(77, 2, "merged");
    sandbox.setJobStatus(77, 502, "running");

    assertThat(gitlab.projectPath(77)).isEqualTo("acme/shop");
    List<Long> open = new ArrayList<>();
    int page = 1;
    int pages = 0;
    while (page > 0) {
      GitLabListings.Page<GitLabListings.MergeRequest> p = gitlab.openMergeRequests(77, page, 1);
      p.items().forEach(mr -> open.add(mr.iid()));
      page = p.nextPage();
      pages++;
    }
    assertThat(open).containsExactly(1L, 3L);
    assertThat(pages).isEqualTo(2);
    assertThat(gitlab.mergeRequestState(77, 2)).contains("merged");
    assertThat(gitlab.mergeRequestState(77, 9)).isEmpty();
    GitLabListings.Page<GitLabListings.Job> jobs = gitlab.pendingJobs(77, 1, 100);
    assertThat(jobs.items()).extracting(GitLabListings.Job::id).containsExactly(501L);
    assertThat(jobs.items().get(0).tags()).containsExactly("docker");
    assertThat(jobs.nextPage()).isZero();
  }

  @Test
  void aSeedFileWithoutProjectsIsRefusedWithAClearMessage(@TempDir Path dir) throws Exception {
    Path seed = dir.resolve("seed.json");
    Files.writeString(seed, "{\"merge-requests\": []}");

    assertThatThrownBy(() -> sandbox.seed(seed))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ephemera.sandbox.gitlab.seed")
        .hasMessageContaining("projects");
  }

  @Test
  void theFaultSwitchAnswers503UntilItIsOver() {
    sandbox.seedProject(77, "acme/shop");
    sandbox.failFor(Duration.ofMinutes(1));

    assertThatThrownBy(() -> gitlab.projectPath(77)).hasMessageContaining("HTTP 503");

    sandbox.failFor(Duration.ZERO);
    assertThat(gitlab.projectPath(77)).isEqualTo("acme/shop");
  }
}
