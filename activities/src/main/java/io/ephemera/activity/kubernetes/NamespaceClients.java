package io.ephemera.activity.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * Which client writes a review app's objects inside its namespace: the worker's own, or one holding
 * credentials issued for that namespace alone ({@link DeployTokenClients}). Namespace creation and
 * teardown always use the worker's own client: they come before the namespace's credentials exist
 * and after they are revoked.
 */
public interface NamespaceClients extends AutoCloseable {

  /**
   * The client for work inside {@code namespace}. Fails with a typed {@link
   * io.temporal.failure.ApplicationFailure} when the namespace's credentials are required but
   * absent.
   */
  KubernetesClient forNamespace(String namespace);

  /** Forgets what is held for {@code namespace}, e.g. once it is deleted. */
  default void release(String namespace) {}

  /** Closes the clients it made; never the worker's own. */
  @Override
  default void close() {}

  /** Always the worker's own client: no per-namespace credentials are configured. */
  static NamespaceClients worker(KubernetesClient client) {
    return namespace -> client;
  }
}
