package io.ephemera.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.ephemera.reviewapp.ReviewAppPhase;
import io.ephemera.runner.RunnerPhase;
import org.junit.jupiter.api.Test;

class WorkflowReaderQueryTest {
  @Test
  void aPhaseFilterBecomesASearchAttributeCondition() {
    assertThat(WorkflowReader.openWorkflowsQuery("ReviewApp", ReviewAppPhase.READY))
        .isEqualTo(
            "WorkflowType = 'ReviewApp' AND ExecutionStatus = 'Running' AND Phase = 'READY'");
    assertThat(WorkflowReader.openWorkflowsQuery("Runner", RunnerPhase.WAITING))
        .endsWith("AND Phase = 'WAITING'");
  }

  @Test
  void noPhaseListsEveryOpenWorkflowOfTheType() {
    assertThat(WorkflowReader.openWorkflowsQuery("Runner", null))
        .isEqualTo("WorkflowType = 'Runner' AND ExecutionStatus = 'Running'");
  }
}
