package io.ephemera.activity.reconciler;

import io.ephemera.common.Labels;
import io.ephemera.common.Names;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.ListOptions;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Review-app namespaces and runner pods, listed by the label {@code
 * app.kubernetes.io/managed-by=ephemera} with Kubernetes' own paging ({@code limit} and {@code
 * continue}), so the client never holds more than a page. The owner is the {@code
 * ephemera.io/workflow-id} label; objects without it (the runners' shared namespace) are not
 * judged.
 */
public final class KubernetesSources {
  private KubernetesSources() {}

  /** Namespaces labelled as managed by Ephemera, cluster-wide. */
  public static ManagedSource namespaces(KubernetesClient client) {
    return new Source(
        io.ephemera.activity.reconciler.ResourceKinds.NAMESPACE,
        options ->
            client.namespaces().withLabel(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE).list(options),
        o -> o.getMetadata().getName());
  }

  /** Runner pods in the runners' namespace. */
  public static ManagedSource runnerPods(KubernetesClient client, String namespace) {
    return new Source(
        io.ephemera.activity.reconciler.ResourceKinds.RUNNER_POD,
        options ->
            client
                .pods()
                .inNamespace(namespace)
                .withLabel(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
                .withLabel(Labels.KIND, Labels.KIND_RUNNER)
                .list(options),
        o -> o.getMetadata().getNamespace() + "/" + o.getMetadata().getName());
  }

  private record Source(
      String kind,
      Function<ListOptions, KubernetesResourceList<? extends HasMetadata>> list,
      Function<HasMetadata, String> name)
      implements ManagedSource {
    @Override
    public Page page(String cursor, int limit) {
      ListOptions options =
          new ListOptionsBuilder().withLimit((long) limit).withContinue(cursor).build();
      KubernetesResourceList<? extends HasMetadata> list = this.list.apply(options);
      List<Managed> items = new ArrayList<>(list.getItems().size());
      for (HasMetadata o : list.getItems()) {
        Map<String, String> labels = o.getMetadata().getLabels();
        String label = labels == null ? null : labels.get(Labels.WORKFLOW_ID);
        String owner = label == null || label.isBlank() ? null : Names.workflowIdFromLabel(label);
        items.add(
            new Managed(
                name.apply(o),
                owner,
                Ownership.instant(o.getMetadata().getCreationTimestamp()),
                Ownership.projectOf(owner),
                null));
      }
      String next = list.getMetadata() == null ? null : list.getMetadata().getContinue();
      return new Page(items, next == null || next.isBlank() ? null : next);
    }
  }
}
