package io.ephemera.activity.reconciler;

import io.ephemera.activity.build.BuildRequest;
import io.ephemera.activity.credentials.Lease;
import java.time.Instant;
import java.util.List;

/**
 * One kind of managed resource, read a page at a time. Implementations throw on any failure of
 * their system; they never answer an empty page for "could not tell".
 */
public interface ManagedSource {

  /** The {@link ResourceKinds} kind. */
  String kind();

  /**
   * One page after {@code cursor} ({@code null} for the first), at most {@code limit} items (a
   * source that cannot cap its pages says so in its documentation).
   */
  Page page(String cursor, int limit);

  /** A page; {@code next} is null after the last. */
  record Page(List<Managed> items, String next) {}

  /**
   * A managed resource.
   *
   * @param owner the owning workflow id, null when the resource names none (a shared object, such
   *     as the runners' namespace): such a resource is counted and never judged
   * @param createdAt null when the system does not say
   * @param lease what revoking needs, for leases only
   * @param build what deleting needs, for builds only
   */
  record Managed(
      String resource,
      String owner,
      Instant createdAt,
      long projectId,
      Lease lease,
      BuildRequest build) {

    /** A resource that is neither a build nor (unless {@code lease} is given) a lease. */
    public Managed(String resource, String owner, Instant createdAt, long projectId, Lease lease) {
      this(resource, owner, createdAt, projectId, lease, null);
    }
  }
}
