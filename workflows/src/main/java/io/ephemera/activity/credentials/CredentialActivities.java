package io.ephemera.activity.credentials;

import io.temporal.activity.ActivityInterface;

/**
 * Short-lived credentials for one step of a deploy. Activity type names are {@code
 * Credentials<Method>} and stored in history: never rename a method.
 *
 * <p>The secret values never leave the activity: {@link #issue} reads them from Vault and writes
 * them straight into the Kubernetes Secret the request names, and answers with lease ids, paths and
 * expiry times only. Failures are typed: {@code VaultForbidden} and {@code VaultRoleMissing} are
 * non-retryable and name the path and role; {@code VaultUnavailable} (sealed, unreachable, 5xx) is
 * retried with backoff.
 */
@ActivityInterface(namePrefix = "Credentials")
public interface CredentialActivities {

  /**
   * Issues every credential {@code request.purpose()} needs, each with the shortest TTL that works,
   * records each lease in Ephemera's lease index, and writes the values into the Secret {@code
   * request.secretNamespace()/request.secretName()} under the keys of {@link SecretKeys}.
   * Idempotent by Secret name: issuing again replaces the Secret's contents.
   */
  IssuedCredentials issue(CredentialRequest request);

  /**
   * Revokes the leases and removes them from the lease index. An unknown, expired or already
   * revoked lease is success.
   */
  void revoke(RevokeRequest request);
}
