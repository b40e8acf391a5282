package io.ephemera.activity.gitlab;

import java.util.List;

/** A runner to register for {@code workflowId}, taking only jobs with {@code tags}. */
public record CreateRunnerRequest(
    long projectId, String workflowId, List<String> tags, int maximumTimeoutSeconds) {
  public CreateRunnerRequest {
    tags = tags == null ? List.of() : List.copyOf(tags);
  }
}
