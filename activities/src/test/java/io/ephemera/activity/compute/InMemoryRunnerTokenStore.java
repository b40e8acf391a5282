package io.ephemera.activity.compute;

import io.ephemera.activity.gitlab.RunnerTokenStore;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** The token store of the tests: a map, with references {@code memory:<workflow id>}. */
final class InMemoryRunnerTokenStore implements RunnerTokenStore {
  private final Map<String, StoredToken> byRef = new ConcurrentHashMap<>();

  @Override
  public String put(String workflowId, long runnerId, String token) {
    String ref = "memory:" + workflowId;
    byRef.put(ref, new StoredToken(ref, workflowId, runnerId, token));
    return ref;
  }

  @Override
  public Optional<StoredToken> get(String ref) {
    return Optional.ofNullable(byRef.get(ref));
  }

  @Override
  public Optional<StoredToken> find(String workflowId) {
    return byRef.values().stream().filter(t -> t.workflowId().equals(workflowId)).findFirst();
  }

  @Override
  public void delete(String workflowId) {
    byRef.values().removeIf(t -> t.workflowId().equals(workflowId));
  }
}
