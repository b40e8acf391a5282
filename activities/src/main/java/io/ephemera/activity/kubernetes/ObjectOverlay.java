package io.ephemera.activity.kubernetes;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How an update lays what Ephemera wants over what the cluster holds. A plain PUT of the desired
 * object would also wipe what others put there: finalizers (an ALB controller's on an Ingress,
 * whose loss leaks a load balancer), owner references, foreign labels and annotations, and the
 * allocated cluster IP of a Service. So the update starts from the live object and replaces only
 * what is ours: our labels and annotations (key by key) and every top-level field besides metadata
 * and status (in practice {@code spec}), wholesale, so a container or port we dropped really goes
 * away.
 */
final class ObjectOverlay {
  private static final String STATUS = "status";
  private static final String SPEC = "spec";

  /** Service fields the API server allocates or defaults once and that we never set. */
  private static final List<String> SERVICE_ALLOCATED =
      List.of("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy");

  private ObjectOverlay() {}

  @SuppressWarnings("unchecked")
  static <T extends HasMetadata> T overlay(
      T current, T desired, Class<T> type, KubernetesSerialization serialization) {
    GenericKubernetesResource live =
        serialization.convertValue(current, GenericKubernetesResource.class);
    GenericKubernetesResource want =
        serialization.convertValue(desired, GenericKubernetesResource.class);

    ObjectMeta meta = live.getMetadata();
    meta.setLabels(union(meta.getLabels(), want.getMetadata().getLabels()));
    meta.setAnnotations(union(meta.getAnnotations(), want.getMetadata().getAnnotations()));

    Map<String, Object> fields = live.getAdditionalProperties();
    for (Map.Entry<String, Object> e : want.getAdditionalProperties().entrySet()) {
      if (STATUS.equals(e.getKey())) {
        continue;
      }
      Object value = e.getValue();
      if ("Service".equals(want.getKind()) && SPEC.equals(e.getKey())) {
        value = keepAllocated((Map<String, Object>) value, (Map<String, Object>) fields.get(SPEC));
      }
      fields.put(e.getKey(), value);
    }
    return serialization.convertValue(live, type);
  }

  private static Map<String, Object> keepAllocated(
      Map<String, Object> wanted, Map<String, Object> live) {
    if (live == null) {
      return wanted;
    }
    Map<String, Object> spec = new LinkedHashMap<>(wanted);
    for (String field : SERVICE_ALLOCATED) {
      if (!spec.containsKey(field) && live.containsKey(field)) {
        spec.put(field, live.get(field));
      }
    }
    return spec;
  }

  private static Map<String, String> union(Map<String, String> live, Map<String, String> ours) {
    Map<String, String> merged = new LinkedHashMap<>();
    if (live != null) {
      merged.putAll(live);
    }
    if (ours != null) {
      merged.putAll(ours);
    }
    return merged;
  }
}
