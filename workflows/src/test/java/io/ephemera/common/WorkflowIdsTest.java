package io.ephemera.common;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WorkflowIdsTest {

  @Test
  void parsingGivesBackWhatTheIdWasBuiltFrom() {
    assertThat(WorkflowIds.parse(WorkflowIds.reviewApp(4242, 7)))
        .contains(new WorkflowIds.Key("review-app", 4242, 7L, null));
    assertThat(WorkflowIds.parse(WorkflowIds.runner(380, 1977)))
        .contains(new WorkflowIds.Key("runner", 380, null, 1977L));
  }

  @Test
  void otherIdsAreNotKeys() {
    assertThat(WorkflowIds.parse("reconciler")).isEmpty();
    assertThat(WorkflowIds.parse(WorkflowIds.runnerSlots(380))).isEmpty();
    assertThat(WorkflowIds.parse("review-app/1/job-2")).isEmpty();
    assertThat(WorkflowIds.parse("runner/1/mr-2")).isEmpty();
    assertThat(WorkflowIds.parse("runner/1/job-99999999999999999999")).isEmpty();
    assertThat(WorkflowIds.parse(null)).isEmpty();
  }
}
