package io.ephemera.activity.credentials;

import java.util.List;

/** Leases of {@code workflowId} to revoke. */
public record RevokeRequest(String workflowId, List<Lease> leases) {
  public RevokeRequest {
    leases = leases == null ? List.of() : List.copyOf(leases);
  }
}
