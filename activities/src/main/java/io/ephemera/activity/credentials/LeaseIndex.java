package io.ephemera.activity.credentials;

import java.time.Instant;
import java.util.List;

/**
 * Ephemera's own record of the Vault leases it issued and has not revoked yet: how the reconciler
 * finds a lease whose workflow died before revoking it. Written before a secret is used, removed
 * after revocation.
 */
public interface LeaseIndex {

  /** One issued lease and the workflow that owns it. */
  record Entry(
      String leaseId,
      String kind,
      String path,
      String workflowId,
      Instant issuedAt,
      Instant expiresAt) {}

  /** One page of entries, in a stable order; {@code next} is {@code null} after the last page. */
  record Page(List<Entry> entries, String next) {}

  void record(Entry entry);

  void remove(String leaseId);

  /**
   * Entries after the cursor {@code after} ({@code null} for the first page), at most {@code
   * limit}.
   */
  Page page(String after, int limit);
}
