package io.ephemera.activity.config;

import io.ephemera.activity.kubernetes.KubernetesProperties;

/** Serves {@link ReviewProperties} to workflows; per-project overrides can hook in here. */
public class ConfigActivitiesImpl implements ConfigActivities {
  private final ReviewSettings settings;

  public ConfigActivitiesImpl(ReviewProperties review, KubernetesProperties kubernetes) {
    this.settings = review.toSettings(kubernetes.tls().enabled());
  }

  @Override
  public ReviewSettings reviewSettings(long projectId) {
    return settings;
  }
}
