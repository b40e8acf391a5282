package io.ephemera.activity.config;

import io.temporal.activity.ActivityInterface;

/**
 * Hands the worker's configuration to workflow code. Called as a local activity at the start of
 * each run, so the values are recorded in history and replay never depends on the current
 * configuration.
 */
@ActivityInterface(namePrefix = "Config")
public interface ConfigActivities {
  ReviewSettings reviewSettings(long projectId);

  RunnerSettings runnerSettings(long projectId);
}
