package io.ephemera.activity.config;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code ephemera.runners.*}: how single-use runners live. Routing (which runner a job gets) is
 * configured under {@code ephemera.runners.routing.*}.
 *
 * @param maxConcurrent live runners per project; more jobs wait in their workflows, in order. 0
 *     means no limit. Twenty keeps one busy project from taking a whole cluster or account quota
 * @param waitTimeout how long a started runner waits for a job before it exits by itself
 * @param maxLifetime cap on a runner's life when its route sets none; above GitLab's default job
 *     timeout (1 h) with room for provisioning
 * @param pollInterval first pause between Jobs API polls, the safety net for lost webhooks
 * @param maxPollInterval the longest pause between polls
 * @param jobTimeoutSeconds the maximum job timeout the runner registers with
 */
@ConfigurationProperties("ephemera.runners")
public record RunnerProperties(
    @DefaultValue("20") int maxConcurrent,
    @DefaultValue("10m") Duration waitTimeout,
    @DefaultValue("3h") Duration maxLifetime,
    @DefaultValue("30s") Duration pollInterval,
    @DefaultValue("5m") Duration maxPollInterval,
    @DefaultValue("3600") int jobTimeoutSeconds) {

  public RunnerProperties {
    if (maxConcurrent < 0) {
      throw new IllegalArgumentException("ephemera.runners.max-concurrent must be >= 0");
    }
    for (Duration d : new Duration[] {waitTimeout, maxLifetime, pollInterval, maxPollInterval}) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("ephemera.runners durations must be positive");
      }
    }
  }

  public RunnerSettings toSettings() {
    return new RunnerSettings(
        maxConcurrent, waitTimeout, maxLifetime, pollInterval, maxPollInterval, jobTimeoutSeconds);
  }
}
