package io.ephemera.reviewapp;

import io.ephemera.activity.kubernetes.KubernetesActivities;
import io.ephemera.activity.kubernetes.NamespaceSpec;
import io.ephemera.activity.kubernetes.NamespaceState;
import io.ephemera.activity.kubernetes.RolloutRequest;
import io.ephemera.activity.kubernetes.RolloutResult;
import io.ephemera.activity.kubernetes.WorkloadSpec;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.client.ActivityCompletionException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Kubernetes activities for the worker under test. Every call goes to {@link #calls}, a Mockito
 * mock that records it and gives the answer (or failure) a test stubbed. On top of that, the
 * rollout of a SHA can be <em>held</em>: the activity then waits as the real one does,
 * heartbeating, until the SHA is released or the workflow cancels it — which Mockito alone cannot
 * model.
 */
final class ControllableKubernetes implements KubernetesActivities {
  /** Records calls and answers them; verify and stub this one. */
  final KubernetesActivities calls = ReviewAppTesting.kubernetesMock();

  /** SHAs whose rollout has begun, in order. */
  final List<String> rolloutsStarted = new CopyOnWriteArrayList<>();

  /** SHAs whose rollout learned through its heartbeat that it was cancelled. */
  final List<String> rolloutsCancelled = new CopyOnWriteArrayList<>();

  private final Set<String> held = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /** The rollout of {@code sha} will wait until {@link #release} or cancellation. */
  void hold(String sha) {
    held.add(sha);
  }

  void release(String sha) {
    held.remove(sha);
  }

  /** Ends every wait, e.g. before the test environment shuts down. */
  void close() {
    closed = true;
    held.clear();
  }

  @Override
  public List<String> ensureNamespace(NamespaceSpec spec) {
    return calls.ensureNamespace(spec);
  }

  @Override
  public List<String> applyWorkload(WorkloadSpec spec) {
    return calls.applyWorkload(spec);
  }

  @Override
  public RolloutResult awaitRollout(RolloutRequest request) {
    rolloutsStarted.add(request.sha());
    ActivityExecutionContext context = Activity.getExecutionContext();
    while (held.contains(request.sha()) && !closed) {
      try {
        context.heartbeat(request.sha());
      } catch (ActivityCompletionException e) {
        rolloutsCancelled.add(request.sha());
        throw e;
      }
      ReviewAppTesting.sleep(Duration.ofMillis(20));
    }
    return calls.awaitRollout(request);
  }

  @Override
  public void deleteIngress(String namespace) {
    calls.deleteIngress(namespace);
  }

  @Override
  public void deleteWorkloads(String namespace) {
    calls.deleteWorkloads(namespace);
  }

  @Override
  public void deleteNamespace(String namespace) {
    calls.deleteNamespace(namespace);
  }

  @Override
  public NamespaceState awaitNamespaceGone(String namespace) {
    return calls.awaitNamespaceGone(namespace);
  }
}
