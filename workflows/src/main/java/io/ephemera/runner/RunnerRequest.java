package io.ephemera.runner;

import java.util.List;

/**
 * Input of {@link RunnerWorkflow}: a pending job and the route it was given. {@code tags} are the
 * job's tags (from the Job Hook, else the Jobs API); the runner is registered with exactly these,
 * so only jobs GitLab would route to it can pick it up. No secret here: the runner token never
 * enters a workflow payload.
 */
public record RunnerRequest(
    long projectId,
    String projectPath,
    long jobId,
    String jobName,
    List<String> tags,
    RunnerRoute route) {

  public RunnerRequest {
    tags = tags == null ? List.of() : List.copyOf(tags);
  }
}
