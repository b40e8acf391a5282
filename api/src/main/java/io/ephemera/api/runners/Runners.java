package io.ephemera.api.runners;

import io.ephemera.api.WorkflowReader;
import io.ephemera.api.WorkflowReader.Found;
import io.ephemera.api.error.TemporalErrors;
import io.ephemera.common.WorkflowIds;
import io.ephemera.runner.RunnerPhase;
import io.ephemera.runner.RunnerStatus;
import io.ephemera.runner.RunnerWorkflow;
import io.temporal.client.WorkflowClient;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.stereotype.Service;

/**
 * The REST API's view of single-use runners, read from and written to Temporal through {@link
 * WorkflowReader}: the runner workflows are the only state there is.
 */
@Service
class Runners {
  private static final Pattern WORKFLOW_ID = Pattern.compile("runner/(\\d+)/job-(\\d+)");

  private final WorkflowClient client;
  private final WorkflowReader reader;

  Runners(WorkflowClient client, WorkflowReader reader) {
    this.client = client;
    this.reader = reader;
  }

  /** Open runners, optionally only those in {@code phase}, ordered by project and job. */
  List<RunnerView> list(RunnerPhase phase) {
    List<String> ids = reader.openWorkflowIds(RunnerWorkflow.TYPE, phase);
    return reader.queryAll(ids, RunnerWorkflow.QUERY_STATUS, RunnerStatus.class).stream()
        .map(Runners::view)
        .filter(v -> phase == null || v.phase() == phase)
        .sorted(
            Comparator.comparingLong(RunnerView::projectId).thenComparingLong(RunnerView::jobId))
        .toList();
  }

  private static RunnerView view(WorkflowReader.Answer<RunnerStatus> answer) {
    if (answer.status() != null) {
      return RunnerView.of(answer.workflowId(), answer.status());
    }
    Matcher m = WORKFLOW_ID.matcher(answer.workflowId());
    long projectId = m.matches() ? Long.parseLong(m.group(1)) : 0;
    long jobId = m.matches() ? Long.parseLong(m.group(2)) : 0;
    return RunnerView.unknown(answer.workflowId(), projectId, jobId, answer.failure());
  }

  /** The runner of a job, running or finished; empty when there never was one. */
  Optional<RunnerView> find(long projectId, long jobId) {
    String workflowId = WorkflowIds.runner(projectId, jobId);
    // The workflow's result is its final status, history included.
    return reader
        .find(
            workflowId,
            RunnerWorkflow.TYPE,
            RunnerWorkflow.QUERY_STATUS,
            RunnerStatus.class,
            RunnerStatus.class,
            Function.identity())
        .map(
            found ->
                switch (found) {
                  case Found.Running<RunnerStatus> r -> RunnerView.of(workflowId, r.status());
                  case Found.Finished<RunnerStatus> f -> RunnerView.of(workflowId, f.status());
                  case Found.Ended<RunnerStatus> e -> ended(workflowId, projectId, jobId, e);
                });
  }

  /**
   * Failed, terminated or timed out: its compensations may never have run, so no phase is claimed.
   * The last known status, when a worker can replay it, names the runner id and compute id the
   * reaper (or a person) has to remove.
   */
  private static RunnerView ended(
      String workflowId, long projectId, long jobId, Found.Ended<RunnerStatus> ended) {
    String why = "the workflow " + ended.how() + " without finishing its teardown";
    return ended.lastKnown() == null
        ? RunnerView.unknown(workflowId, projectId, jobId, why + "; last status unknown")
        : RunnerView.of(workflowId, ended.lastKnown()).closedAbnormally(why);
  }

  /**
   * Asks the runner to deregister and destroy itself now.
   *
   * @return false when no runner workflow of this job is running
   */
  boolean stop(long projectId, long jobId, String reason) {
    String workflowId = WorkflowIds.runner(projectId, jobId);
    try {
      client.newUntypedWorkflowStub(workflowId).signal(RunnerWorkflow.SIGNAL_STOP, reason);
      return true;
    } catch (RuntimeException e) {
      if (TemporalErrors.isNotFound(e)) {
        return false;
      }
      throw e;
    }
  }
}
