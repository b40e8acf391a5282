package io.ephemera.activity.credentials;

import java.time.Instant;

/**
 * One Vault lease, as workflows see it: never a secret value. {@code leaseId} is empty for
 * credentials without a lease (a KV read), which need no revocation.
 *
 * @param kind what it is for, e.g. {@code registry-push}, {@code build-cache}, {@code source-read},
 *     {@code registry-pull}
 * @param path the Vault path it was read from, e.g. {@code aws/creds/review-cache}
 */
public record Lease(String leaseId, String kind, String path, Instant expiresAt) {
  public boolean revocable() {
    return leaseId != null && !leaseId.isEmpty();
  }
}
