package io.ephemera.reviewapp;

import io.ephemera.activity.credentials.Lease;
import java.time.Instant;
import java.util.List;

/**
 * What {@code status()} answers. {@code deployments} counts completed deploys; {@code resources}
 * names the Kubernetes objects the environment holds ({@code Kind/namespace/name}); {@code step} is
 * the deploy step running now and {@code steps} the steps of the current or last deploy; {@code
 * leases} are the Vault leases not revoked yet (ids, paths and expiry only, never a secret).
 */
public record ReviewAppStatus(
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

  public ReviewAppStatus {
    resources = resources == null ? List.of() : List.copyOf(resources);
    steps = steps == null ? List.of() : List.copyOf(steps);
    leases = leases == null ? List.of() : List.copyOf(leases);
  }

  /** A status without deploy steps or leases (before any deploy). */
  public ReviewAppStatus(
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
      String stopReason) {
    this(
        projectId,
        projectPath,
        mrIid,
        phase,
        sha,
        url,
        namespace,
        deployments,
        autoStopAt,
        resources,
        lastError,
        stopReason,
        null,
        List.of(),
        List.of());
  }
}
