package io.ephemera.activity.config;

import io.ephemera.activity.kubernetes.KubernetesProperties;

/** Serves configuration to workflows; per-project overrides can hook in here. */
public class ConfigActivitiesImpl implements ConfigActivities {
  private final ReviewSettings review;
  private final RunnerSettings runners;

  public ConfigActivitiesImpl(
      ReviewProperties review, KubernetesProperties kubernetes, RunnerProperties runners) {
    this.review = review.toSettings(kubernetes.tls().enabled());
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
