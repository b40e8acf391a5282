package io.ephemera.activity.reconciler;

import io.ephemera.activity.build.BuildRequest;
import io.ephemera.activity.credentials.Lease;
import java.time.Instant;

/**
 * A managed resource whose owning workflow is not running (closed, or unknown to Temporal) and
 * which is older than the grace period.
 *
 * @param resource what it is in its system: a namespace name, {@code namespace/pod}, an instance
 *     id, a GitLab runner id, a lease id, {@code namespace/job/name} or {@code
 *     namespace/secret/name} for a build
 * @param owner the owning workflow id, from the label, tag or runner description
 * @param projectId the GitLab project of the owner, 0 when the owner's id names none
 * @param createdAt when the resource was created, null when its system does not say
 * @param ownerState what Temporal said of the owner: {@code not found}, {@code completed}, ...
 * @param lease the lease to revoke, for {@link ResourceKinds#LEASE} only
 * @param build the build to delete (namespace, Job and Secret names, owner; never a secret value),
 *     for {@link ResourceKinds#BUILD} only
 */
public record Orphan(
    String kind,
    String resource,
    String owner,
    long projectId,
    Instant createdAt,
    String ownerState,
    Lease lease,
    BuildRequest build) {

  /** An orphan of any kind but {@link ResourceKinds#BUILD}. */
  public Orphan(
      String kind,
      String resource,
      String owner,
      long projectId,
      Instant createdAt,
      String ownerState,
      Lease lease) {
    this(kind, resource, owner, projectId, createdAt, ownerState, lease, null);
  }
}
