package io.ephemera.reviewapp;

import java.util.Objects;

/**
 * The {@code deploy} signal: deploy this head commit. {@code idempotencyKey} is GitLab's
 * Idempotency-Key of the delivery (stable across manual redeliveries), so a redelivered webhook
 * deploys nothing twice.
 */
public record DeployRequest(String sha, String idempotencyKey) {
  public DeployRequest {
    Objects.requireNonNull(sha, "sha");
    Objects.requireNonNull(idempotencyKey, "idempotencyKey");
  }
}
