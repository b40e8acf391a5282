package io.ephemera.reviewapp;

import java.time.Instant;
import java.util.List;

/**
 * What {@code status()} answers. {@code deployments} counts completed deploys; {@code resources}
 * names the Kubernetes objects the environment holds ({@code Kind/namespace/name}).
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
    String stopReason) {

  public ReviewAppStatus {
    resources = resources == null ? List.of() : List.copyOf(resources);
  }
}
