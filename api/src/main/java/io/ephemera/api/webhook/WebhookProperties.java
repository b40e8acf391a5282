package io.ephemera.api.webhook;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The GitLab webhook receiver's settings, under {@code ephemera.gitlab}.
 *
 * @param webhookToken the webhook's secret token(s), compared with {@code X-Gitlab-Token}; several
 *     (comma-separated) let a token be rotated without dropping deliveries. None: every delivery is
 *     refused.
 * @param maxPayload larger deliveries are answered 413 without being read further
 * @param allowForks deploy merge requests whose source project is a fork, for every project
 * @param forkProjects target projects whose fork merge requests are deployed even when {@code
 *     allowForks} is off
 * @param deliveryTimeout how long a delivery may wait for Temporal before it is answered 503; keep
 *     it below GitLab's webhook timeout (10 s), or GitLab sees a timeout instead of a clear answer
 */
@ConfigurationProperties("ephemera.gitlab")
public record WebhookProperties(
    List<String> webhookToken,
    @DefaultValue("5MB") DataSize maxPayload,
    @DefaultValue("false") boolean allowForks,
    Set<Long> forkProjects,
    @DefaultValue("8s") Duration deliveryTimeout) {

  /** Arrays are allocated up to this size, so the limit itself is capped. */
  static final long MAX_PAYLOAD_CEILING = 256L * 1024 * 1024;

  public WebhookProperties {
    webhookToken =
        webhookToken == null
            ? List.of()
            : webhookToken.stream().filter(t -> t != null && !t.isBlank()).toList();
    if (maxPayload == null) {
      maxPayload = DataSize.ofMegabytes(5);
    }
    if (maxPayload.toBytes() <= 0 || maxPayload.toBytes() > MAX_PAYLOAD_CEILING) {
      throw new IllegalArgumentException(
          "ephemera.gitlab.max-payload must be between 1B and 256MB, was " + maxPayload);
    }
    forkProjects = forkProjects == null ? Set.of() : Set.copyOf(forkProjects);
    if (deliveryTimeout == null) {
      deliveryTimeout = Duration.ofSeconds(8);
    }
    if (deliveryTimeout.isNegative() || deliveryTimeout.isZero()) {
      throw new IllegalArgumentException(
          "ephemera.gitlab.delivery-timeout must be positive, was " + deliveryTimeout);
    }
  }

  /** Whether fork merge requests into {@code projectId} are deployed. */
  boolean deploysForksOf(long projectId) {
    return allowForks || forkProjects.contains(projectId);
  }

  // The record's toString would print the tokens; config dumps and error messages must not.
  @Override
  public String toString() {
    return "WebhookProperties[webhookToken=("
        + webhookToken.size()
        + " configured), maxPayload="
        + maxPayload
        + ", allowForks="
        + allowForks
        + ", forkProjects="
        + forkProjects
        + ", deliveryTimeout="
        + deliveryTimeout
        + "]";
  }
}
