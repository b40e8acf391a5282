package io.ephemera.activity.reconciler;

import java.util.List;

/**
 * One repair. For review apps {@code number} is the merge request iid, for runners the job id.
 *
 * @param sha head commit to deploy ({@link RepairKind#REVIEW_APP_DEPLOY})
 * @param ref source branch ({@link RepairKind#REVIEW_APP_DEPLOY})
 * @param reason why: shown in the Temporal UI, and the stop reason for {@link
 *     RepairKind#REVIEW_APP_STOP}
 * @param tags the job's tags ({@link RepairKind#RUNNER_START})
 */
public record RepairAction(
    RepairKind kind,
    long projectId,
    String projectPath,
    long number,
    String title,
    String sha,
    String ref,
    String reason,
    List<String> tags) {
  public RepairAction {
    tags = tags == null ? List.of() : List.copyOf(tags);
  }
}
