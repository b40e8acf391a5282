package io.ephemera.api.environments;

import io.ephemera.activity.credentials.Lease;
import io.ephemera.reviewapp.DeployStep;
import io.ephemera.reviewapp.ReviewAppPhase;
import io.ephemera.reviewapp.ReviewAppStatus;
import java.time.Instant;
import java.util.List;

/**
 * A review app as the REST API shows it: the workflow's {@link ReviewAppStatus} plus the id of the
 * workflow that owns it. A separate record, so that the wire format and the history format can
 * evolve on their own. {@code step} is the deploy step running now and {@code steps} those of the
 * current or last deploy (credentials, build, namespace, pull-credentials, workload, rollout);
 * {@code leases} are the Vault leases not revoked yet: ids, paths and expiry, never a secret.
 */
record ReviewAppView(
    String workflowId,
    long projectId,
    String projectPath,
    long mrIid,
    ReviewAppPhase phase,
    String sha,
    String url,
    String namespace,
    int deployments,
    Instant autoStopAt,
    List<String> resources,
    String lastError,
    String stopReason,
    String step,
    List<DeployStep> steps,
    List<Lease> leases) {

  static ReviewAppView of(String workflowId, ReviewAppStatus s) {
    return new ReviewAppView(
        workflowId,
        s.projectId(),
        s.projectPath(),
        s.mrIid(),
        s.phase(),
        s.sha(),
        s.url(),
        s.namespace(),
        s.deployments(),
        s.autoStopAt(),
        s.resources(),
        s.lastError(),
        s.stopReason(),
        s.step(),
        s.steps(),
        s.leases());
  }

  /** The last known status of a workflow that ended abnormally: no phase, and why in lastError. */
  ReviewAppView closedAbnormally(String why) {
    String last = phase == null ? why : why + " (last known phase " + phase + ")";
    return new ReviewAppView(
        workflowId,
        projectId,
        projectPath,
        mrIid,
        null,
        sha,
        url,
        namespace,
        deployments,
        autoStopAt,
        resources,
        last,
        stopReason,
        step,
        steps,
        leases);
  }

  /** A review app whose status could not be read; the phase is left unknown rather than guessed. */
  static ReviewAppView unknown(String workflowId, long projectId, long mrIid, String why) {
    return new ReviewAppView(
        workflowId,
        projectId,
        null,
        mrIid,
        null,
        null,
        null,
        null,
        0,
        null,
        List.of(),
        why,
        null,
        null,
        List.of(),
        List.of());
  }
}
