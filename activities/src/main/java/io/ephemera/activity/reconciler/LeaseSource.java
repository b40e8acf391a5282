package io.ephemera.activity.reconciler;

import io.ephemera.activity.credentials.Lease;
import io.ephemera.activity.credentials.LeaseIndex;
import java.util.ArrayList;
import java.util.List;

/** Vault leases Ephemera issued and has not revoked, from its own {@link LeaseIndex}. */
public final class LeaseSource implements ManagedSource {
  private final LeaseIndex index;

  public LeaseSource(LeaseIndex index) {
    this.index = index;
  }

  @Override
  public String kind() {
    return ResourceKinds.LEASE;
  }

  @Override
  public Page page(String cursor, int limit) {
    LeaseIndex.Page page = index.page(cursor, limit);
    List<Managed> items = new ArrayList<>(page.entries().size());
    for (LeaseIndex.Entry e : page.entries()) {
      items.add(
          new Managed(
              e.leaseId(),
              e.workflowId(),
              e.issuedAt(),
              Ownership.projectOf(e.workflowId()),
              new Lease(e.leaseId(), e.kind(), e.path(), e.expiresAt())));
    }
    return new Page(items, page.next());
  }
}
