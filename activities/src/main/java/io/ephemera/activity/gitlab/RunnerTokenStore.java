package io.ephemera.activity.gitlab;

import java.util.Optional;

/**
 * Where runner authentication tokens ({@code glrt-...}) live between registration and provisioning,
 * so they never travel through a workflow payload. Keyed by the owning workflow id; the reference
 * returned by {@link #put} is what workflows carry.
 */
public interface RunnerTokenStore {

  /** A stored token with the runner it belongs to. */
  record StoredToken(String ref, String workflowId, long runnerId, String token) {
    @Override
    public String toString() {
      // Never print the token, whatever logs a record.
      return "StoredToken[ref="
          + ref
          + ", workflowId="
          + workflowId
          + ", runnerId="
          + runnerId
          + "]";
    }
  }

  /** Stores (or replaces) the workflow's token; answers its reference. */
  String put(String workflowId, long runnerId, String token);

  /** The token behind a reference. */
  Optional<StoredToken> get(String ref);

  /** The token stored for a workflow, if any. */
  Optional<StoredToken> find(String workflowId);

  /** Removes the workflow's token; nothing stored is success. */
  void delete(String workflowId);
}
