package io.ephemera.reviewapp;

import java.util.Objects;

/**
 * The {@code deploy} signal: deploy this head commit. {@code idempotencyKey} is GitLab's
 * Idempotency-Key of the delivery (stable across manual redeliveries), so a redelivered webhook
 * deploys nothing twice. {@code ref} is the merge request's source branch, which GitLab's
 * Deployments API records (null when unknown: no deployment is recorded then).
 */
public record DeployRequest(String sha, String idempotencyKey, String ref) {
  public DeployRequest {
    Objects.requireNonNull(sha, "sha");
    Objects.requireNonNull(idempotencyKey, "idempotencyKey");
  }

  public DeployRequest(String sha, String idempotencyKey) {
    this(sha, idempotencyKey, null);
  }
}
