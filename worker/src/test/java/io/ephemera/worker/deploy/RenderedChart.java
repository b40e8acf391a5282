package io.ephemera.worker.deploy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/helm/ephemera rendered in-process by Helm (helm-java's native library, no helm binary) and
 * parsed by Fabric8, as the API server would receive it.
 */
final class RenderedChart {
  static final Path CHART = Path.of("..", "deploy", "helm", "ephemera");
  static final String RELEASE = "ephemera";
  static final String NAMESPACE = "ephemera-system";

  /**
   * The oldest Kubernetes the chart is rendered for in tests: ValidatingAdmissionPolicy v1 needs
   * 1.30 (Helm's own default, 1.20, is older than the chart's kubeVersion).
   */
  static final String KUBE_VERSION = "1.30.0";

  final String yaml;
  final List<HasMetadata> objects;

  private RenderedChart(String yaml, List<HasMetadata> objects) {
    this.yaml = yaml;
    this.objects = objects;
  }

  /** The chart with its default values. */
  static RenderedChart defaults() {
    return render(Map.of());
  }

  /** The chart with {@code --set key=value} for each entry. */
  static RenderedChart render(Map<String, Object> sets) {
    return render(null, sets);
  }

  /** The chart with {@code -f valuesFile} (when not null) and {@code --set key=value}. */
  static RenderedChart render(Path valuesFile, Map<String, Object> sets) {
    TemplateCommand template =
        new Helm(CHART)
            .template()
            .withName(RELEASE)
            .withNamespace(NAMESPACE)
            .withKubeVersion(KUBE_VERSION);
    if (valuesFile != null) {
      template.withValuesFile(valuesFile);
    }
    sets.forEach(template::set);
    String yaml = template.call();
    // load() only parses: the client never connects anywhere.
    try (KubernetesClient parser = new KubernetesClientBuilder().build()) {
      List<HasMetadata> objects =
          parser.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items();
      return new RenderedChart(yaml, List.copyOf(objects));
    }
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  <T extends HasMetadata> T one(Class<T> type, String name) {
    return all(type).stream()
        .filter(o -> name.equals(o.getMetadata().getName()))
        .findFirst()
        .orElseThrow(
            () -> new NoSuchElementException("no " + type.getSimpleName() + " named " + name));
  }

  Deployment deployment(String component) {
    return one(Deployment.class, RELEASE + "-" + component);
  }

  /** The generated application.yaml, as a nested map. */
  Map<String, Object> applicationYaml() {
    ConfigMap config = one(ConfigMap.class, RELEASE + "-config");
    Map<String, Object> app = new Yaml().load(config.getData().get("application.yaml"));
    return app == null ? Map.of() : app;
  }

  /** The application.yaml flattened to dotted keys, as Spring sees it. */
  Map<String, Object> applicationProperties() {
    Map<String, Object> flat = new LinkedHashMap<>();
    flatten("", applicationYaml(), flat);
    return flat;
  }

  /** A dotted property of the generated application.yaml, or {@code null}. */
  Object property(String key) {
    return applicationProperties().get(key);
  }

  @SuppressWarnings("unchecked")
  private static void flatten(String prefix, Object value, Map<String, Object> into) {
    if (value instanceof Map<?, ?> map) {
      // As Spring's YAML loader: a "[...]" key (a map key holding dots or slashes) joins without a
      // dot.
      map.forEach(
          (k, v) ->
              flatten(
                  prefix.isEmpty() || k.toString().startsWith("[") ? prefix + k : prefix + "." + k,
                  v,
                  into));
    } else if (value instanceof List<?> list && !list.isEmpty() && list.getFirst() instanceof Map) {
      for (int i = 0; i < list.size(); i++) {
        flatten(prefix + "[" + i + "]", list.get(i), into);
      }
    } else {
      into.put(prefix, value);
    }
  }
}
