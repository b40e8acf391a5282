package io.ephemera.activity.config;

import io.ephemera.activity.kubernetes.KubernetesProperties;

/** Serves configuration to workflows; per-project overrides can hook in here. */
public class ConfigActivitiesImpl implements ConfigActivities {
  private final ReviewSettings review;
  private final RunnerSettings runners;

  /**
   * @param buildEnabled whether deploys build their image ({@code ephemera.build.enabled})
   * @param buildNamespace where builds run ({@code ephemera.build.namespace})
   */
  public ConfigActivitiesImpl(
      ReviewProperties review,
      KubernetesProperties kubernetes,
      RunnerProperties runners,
      boolean buildEnabled,
      String buildNamespace) {
    this.review = review.toSettings(kubernetes.tls().enabled(), buildEnabled, buildNamespace);
    this.runners = runners.toSettings();
  }

  @Override
  public ReviewSettings reviewSettings(long projectId) {
    return review;
  }

  @Override
  public RunnerSettings runnerSettings(long projectId) {
    return runners;
  }
}
