package io.ephemera.api.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ephemera.api.error.ApiException;
import io.ephemera.apitest.Fixtures;
import io.ephemera.runner.JobEvent;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.node.ObjectNode;

class JobHookEventTest {

  @Test
  void readsGitLabsDocumentedPendingJob() {
    JobHookEvent e = JobHookEvent.parse(Fixtures.tree("job-pending.json"));

    assertThat(e.projectId()).isEqualTo(380);
    assertThat(e.projectPath()).isEqualTo("gitlab-org/gitlab-test");
    assertThat(e.jobId()).isEqualTo(1977);
    assertThat(e.jobName()).isEqualTo("test");
    assertThat(e.status()).isEqualTo("pending");
    assertThat(e.isPending()).isTrue();
    assertThat(e.runnerId()).isNull();
    assertThat(e.runnerDescription()).isNull();
    // The documented payload has no list of the job's tags: the Jobs API is asked instead.
    assertThat(e.tags()).isNull();
  }

  @Test
  void readsTheRunnerOfARunningJobButNotItsTags() {
    JobHookEvent e = JobHookEvent.parse(Fixtures.tree("job-running.json"));

    assertThat(e.isRunning()).isTrue();
    assertThat(e.runnerId()).isEqualTo(380987);
    assertThat(e.runnerDescription()).isEqualTo("ephemera runner/380/job-1977");
    assertThat(e.tags()).isNull();
    assertThat(e.toJobEvent()).isEqualTo(new JobEvent(1977, "running", 380987L));
  }

  @ParameterizedTest
  @ValueSource(strings = {"success", "failed", "canceled", "skipped", "manual"})
  void theseStatusesEndAJob(String status) {
    ObjectNode hook = Fixtures.tree("job-success.json");
    hook.put("build_status", status.toUpperCase());

    JobHookEvent e = JobHookEvent.parse(hook);

    assertThat(e.status()).isEqualTo(status);
    assertThat(e.isFinished()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"created", "pending", "running", "canceling", "preparing"})
  void theseDoNot(String status) {
    ObjectNode hook = Fixtures.tree("job-pending.json");
    hook.put("build_status", status);

    assertThat(JobHookEvent.parse(hook).isFinished()).isFalse();
  }

  @Test
  void payloadTagsAreTrimmedDeduplicatedAndKeptInOrderAndAnEmptyListCounts() {
    ObjectNode hook = Fixtures.tree("job-pending.json");
    hook.putArray("tag_list").add(" docker ").add("").add("gpu").add("docker");
    assertThat(JobHookEvent.parse(hook).tags()).containsExactly("docker", "gpu");

    ObjectNode untagged = Fixtures.tree("job-pending.json");
    untagged.putArray("build_tags");
    assertThat(JobHookEvent.parse(untagged).tags()).isEmpty();
  }

  @Test
  void tooManyTagsAreRefused() {
    ObjectNode hook = Fixtures.tree("job-pending.json");
    var tags = hook.putArray("tag_list");
    for (int i = 0; i <= JobHookEvent.MAX_TAGS; i++) {
      tags.add("t" + i);
    }

    assertThatThrownBy(() -> JobHookEvent.parse(hook))
        .isInstanceOf(ApiException.class)
        .hasMessageContaining("tag_list");
  }

  @Test
  void normalizeDropsNullsAndBlanks() {
    assertThat(JobHookEvent.normalize(Arrays.asList("a", null, " ", "b ", "a")))
        .isEqualTo(List.of("a", "b"));
  }
}
