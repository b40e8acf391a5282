package io.ephemera.sandbox;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LimitRange;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ResourceQuota;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;

/**
 * The namespaced kinds the sandbox knows: what its namespace deletion sweeps away and what its
 * inventory shows. Everything a review app or an image build creates is here; a kind added to the
 * activities must be added here too, or it survives its namespace in the sandbox.
 */
final class SandboxKinds {

  /** A kind by its class; the Fabric8 client finds the endpoint from the class alone. */
  record Kind<T extends HasMetadata>(Class<T> type) {
    String name() {
      return HasMetadata.getKind(type);
    }

    List<T> listAll(KubernetesClient client) {
      return client.resources(type).inAnyNamespace().list().getItems();
    }

    void delete(KubernetesClient client, String namespace, String name) {
      client.resources(type).inNamespace(namespace).withName(name).delete();
    }
  }

  static final Kind<Deployment> DEPLOYMENTS = new Kind<>(Deployment.class);
  static final Kind<Job> JOBS = new Kind<>(Job.class);
  static final Kind<Pod> PODS = new Kind<>(Pod.class);

  static final List<Kind<?>> ALL =
      List.of(
          DEPLOYMENTS,
          new Kind<>(Service.class),
          new Kind<>(Ingress.class),
          new Kind<>(ResourceQuota.class),
          new Kind<>(LimitRange.class),
          new Kind<>(NetworkPolicy.class),
          PODS,
          new Kind<>(Secret.class),
          new Kind<>(ConfigMap.class),
          JOBS);

  private SandboxKinds() {}
}
