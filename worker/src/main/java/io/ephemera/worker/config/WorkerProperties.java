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
 */
@ConfigurationProperties("ephemera.worker")
public record WorkerProperties(
    @DefaultValue("true") boolean virtualThreads, @DefaultValue("30s") Duration shutdownGrace) {}
