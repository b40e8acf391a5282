package io.ephemera.worker.config;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code ephemera.worker.*}.
 *
 * @param virtualThreads run workflow threads as virtual threads, so tens of thousands of cached
 *     long-lived review apps do not each pin a platform thread
 * @param shutdownGrace how long in-flight activities get to finish (and heartbeat out) on shutdown
 *     before the worker stops
 * @param workflowCacheSize workflows kept in memory between their tasks (the SDK's default, 600). A
 *     review app lives for days: one that falls out of the cache replays its whole history on its
 *     next signal, timer or {@code status()} query. Size it to the live review apps a worker holds
 *     when {@code status()} latency matters (the fleet benchmark in bench/ measures heap per app)
 */
@ConfigurationProperties("ephemera.worker")
public record WorkerProperties(
    @DefaultValue("true") boolean virtualThreads,
    @DefaultValue("30s") Duration shutdownGrace,
    @DefaultValue("600") int workflowCacheSize) {

  public WorkerProperties {
    if (workflowCacheSize < 0) {
      throw new IllegalArgumentException(
          "ephemera.worker.workflow-cache-size must not be negative, was " + workflowCacheSize);
    }
  }
}
