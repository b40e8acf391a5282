package io.ephemera.activity.kubernetes;

import io.ephemera.common.Labels;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentCondition;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import java.util.Map;

/**
 * One reading of a Deployment's rollout, by the rules of {@code kubectl rollout status}: the status
 * speaks of the current spec only once {@code observedGeneration} has caught up with {@code
 * generation}, and the rollout is done when every wanted replica is updated, ready and available
 * and no old replica is left.
 */
sealed interface RolloutCheck {

  record Done(int readyReplicas) implements RolloutCheck {}

  /** Waiting cannot help. */
  record Failed(String reason) implements RolloutCheck {}

  /** Not there yet; {@code progress} says how far, for heartbeats and the final message. */
  record Pending(String progress) implements RolloutCheck {}

  static RolloutCheck of(Deployment d, String shaLabel) {
    String deployed = templateSha(d);
    if (!shaLabel.equals(deployed)) {
      // Only a newer applyWorkload rewrites the template: this rollout was superseded, and the
      // workflow waits for the newer one instead.
      return new Failed(
          "the Deployment now runs "
              + (deployed == null ? "a template without a sha label" : "sha " + deployed)
              + ", not "
              + shaLabel);
    }
    DeploymentStatus status = d.getStatus() == null ? new DeploymentStatus() : d.getStatus();
    Long generation = d.getMetadata().getGeneration();
    Long observed = status.getObservedGeneration();
    // A server that does not report generation leaves nothing to compare: trust the status as is.
    if (generation != null && (observed == null || observed < generation)) {
      return new Pending(
          "waiting for the deployment controller to observe generation "
              + generation
              + (observed == null ? "" : " (observed " + observed + ")"));
    }
    // Checked only once the status describes the current spec: a deadline exceeded by an earlier,
    // superseded template must not fail this one.
    if (status.getConditions() != null) {
      for (DeploymentCondition c : status.getConditions()) {
        if ("Progressing".equals(c.getType()) && "ProgressDeadlineExceeded".equals(c.getReason())) {
          return new Failed(
              "progress deadline exceeded"
                  + (c.getMessage() == null ? "" : " (" + c.getMessage() + ")"));
        }
      }
    }
    int wanted =
        d.getSpec() == null || d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
    int updated = orZero(status.getUpdatedReplicas());
    int ready = orZero(status.getReadyReplicas());
    int available = orZero(status.getAvailableReplicas());
    Integer total = status.getReplicas();
    boolean oldLeft = total != null && total > updated;
    if (updated >= wanted && ready >= wanted && available >= wanted && !oldLeft) {
      return new Done(ready);
    }
    return new Pending(
        "updated "
            + updated
            + "/"
            + wanted
            + ", ready "
            + ready
            + "/"
            + wanted
            + ", available "
            + available
            + "/"
            + wanted
            + (oldLeft ? ", " + (total - updated) + " old replica(s) terminating" : ""));
  }

  private static String templateSha(Deployment d) {
    if (d.getSpec() == null
        || d.getSpec().getTemplate() == null
        || d.getSpec().getTemplate().getMetadata() == null) {
      return null;
    }
    Map<String, String> labels = d.getSpec().getTemplate().getMetadata().getLabels();
    return labels == null ? null : labels.get(Labels.SHA);
  }

  private static int orZero(Integer i) {
    return i == null ? 0 : i;
  }
}
