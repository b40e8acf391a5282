package io.ephemera.activity.config;

import java.time.Duration;

/**
 * Runner settings as seen by workflow code.
 *
 * @param maxConcurrent live runners allowed per project; 0 means no limit
 * @param waitTimeout how long a runner waits for a job ({@code --wait-timeout}) before it exits
 * @param maxLifetime cap on a runner's life when its route sets none
 * @param pollInterval first pause between Jobs API polls when no webhook arrives
 * @param maxPollInterval the longest pause between polls (backoff cap)
 * @param jobTimeoutSeconds the runner's maximum job timeout in GitLab
 */
public record RunnerSettings(
    int maxConcurrent,
    Duration waitTimeout,
    Duration maxLifetime,
    Duration pollInterval,
    Duration maxPollInterval,
    int jobTimeoutSeconds) {}
