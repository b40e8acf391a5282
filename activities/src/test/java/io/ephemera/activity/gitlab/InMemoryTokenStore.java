package io.ephemera.activity.gitlab;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** A token store in a map, for adapter tests; {@link #failNextPut} simulates a store outage. */
final class InMemoryTokenStore implements RunnerTokenStore {
  static final String PREFIX = "memory:";
  private final Map<String, StoredToken> byWorkflow = new ConcurrentHashMap<>();
  private volatile boolean failNextPut;

  @Override
  public String put(String workflowId, long runnerId, String token) {
    if (failNextPut) {
      failNextPut = false;
      throw new IllegalStateException("token store unavailable");
    }
    String ref = PREFIX + workflowId;
    byWorkflow.put(workflowId, new StoredToken(ref, workflowId, runnerId, token));
    return ref;
  }

  @Override
  public Optional<StoredToken> get(String ref) {
    return byWorkflow.values().stream().filter(t -> t.ref().equals(ref)).findFirst();
  }

  @Override
  public Optional<StoredToken> find(String workflowId) {
    return Optional.ofNullable(byWorkflow.get(workflowId));
  }

  @Override
  public void delete(String workflowId) {
    byWorkflow.remove(workflowId);
  }

  void failNextPut() {
    failNextPut = true;
  }
}
