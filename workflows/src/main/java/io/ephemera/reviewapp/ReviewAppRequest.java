package io.ephemera.reviewapp;

import java.util.List;

/**
 * Input of {@link ReviewAppWorkflow}. {@code carried} is null on the first run and holds the state
 * handed over by continue-as-new afterwards. No secret ever goes in here.
 */
public record ReviewAppRequest(
    long projectId, String projectPath, long mrIid, String title, Carried carried) {

  public ReviewAppRequest(long projectId, String projectPath, long mrIid, String title) {
    this(projectId, projectPath, mrIid, title, null);
  }

  /** State that survives continue-as-new. */
  public record Carried(
      ReviewAppStatus status, List<String> seenKeys, DeployRequest pendingDeploy) {}
}
