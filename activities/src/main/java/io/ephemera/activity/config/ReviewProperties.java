package io.ephemera.activity.config;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code ephemera.review.*}: how review apps are named, served and kept.
 *
 * @param domain the review domain; hosts are {@code mr-<iid>.<domain>} by default
 * @param hostTemplate the Ingress host. The default follows the architecture ({@code
 *     mr-{iid}.{domain}}); installations serving several projects from one domain should use {@code
 *     mr-{iid}-{project}.{domain}}, since MR numbers repeat across projects
 * @param imageTemplate the image reference of a commit: what a build pushes, and what is deployed
 * @param autoStop idle time after the last deploy or extend before the app is torn down
 * @param autoStopJitter the most that is added at random to each auto-stop time; ten minutes
 *     spreads thousands of apps opened together over enough seconds not to stampede the cluster
 * @param maxExtend the longest single extend accepted
 * @param namespaceStuckAfter a namespace Terminating for longer is reported as stuck
 * @param teardownPollInterval pause between re-checks of a namespace that is not gone yet
 */
@ConfigurationProperties("ephemera.review")
public record ReviewProperties(
    @DefaultValue("review.localhost") String domain,
    @DefaultValue("mr-{iid}.{domain}") String hostTemplate,
    @DefaultValue("{registry}/{project}:{sha}") String imageTemplate,
    @DefaultValue("registry.localhost:5000") String registry,
    @DefaultValue("3d") Duration autoStop,
    @DefaultValue("10m") Duration autoStopJitter,
    @DefaultValue("14d") Duration maxExtend,
    @DefaultValue("10m") Duration namespaceStuckAfter,
    @DefaultValue("10s") Duration teardownPollInterval) {

  public ReviewProperties {
    if (autoStop.isNegative() || autoStop.isZero()) {
      throw new IllegalArgumentException("ephemera.review.auto-stop must be positive");
    }
    if (autoStopJitter.isNegative()) {
      throw new IllegalArgumentException("ephemera.review.auto-stop-jitter must not be negative");
    }
    if (!hostTemplate.contains("{iid}")) {
      throw new IllegalArgumentException(
          "ephemera.review.host-template must contain {iid}, or every MR gets the same host");
    }
  }

  /**
   * @param tls whether Ingresses serve TLS ({@code ephemera.kubernetes.tls.enabled}), which decides
   *     the URL scheme: one setting, so the URL can never disagree with the Ingress
   */
  public ReviewSettings toSettings(boolean tls, boolean buildEnabled, String buildNamespace) {
    return new ReviewSettings(
        autoStop,
        autoStopJitter,
        maxExtend,
        hostTemplate,
        domain,
        tls ? "https" : "http",
        imageTemplate,
        registry,
        namespaceStuckAfter,
        teardownPollInterval,
        buildEnabled,
        buildNamespace);
  }
}
