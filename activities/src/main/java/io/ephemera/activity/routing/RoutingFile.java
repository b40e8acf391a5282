package io.ephemera.activity.routing;

import io.ephemera.runner.RunnerRoute;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The optional routing file ({@code ephemera.runners.routing.file}): YAML with {@code rules:} and
 * optionally {@code default-route:}, in exactly the shape of the inline configuration. It is read
 * with Jackson YAML (already on the classpath through Fabric8), flattened into property names and
 * bound with Spring's {@link Binder}, so kebab-case and camelCase keys, {@code 2h} durations and
 * case-insensitive types behave as they do inline.
 */
final class RoutingFile {
  /** The name the file's content is bound under; the file itself has no prefix. */
  private static final String ROOT = "file";

  private RoutingFile() {}

  /** The file's rules and default route. */
  record Content(List<RouteRule> rules, RunnerRoute defaultRoute) {}

  /** What the file's YAML binds to. */
  record Shape(List<RoutingProperties.Rule> rules, RoutingProperties.Route defaultRoute) {
    Shape {
      rules = rules == null ? List.of() : rules;
    }
  }

  static Content load(Path path) {
    JsonNode root;
    try {
      root = YAMLMapper.builder().build().readTree(Files.readString(path));
    } catch (IOException e) {
      throw new IllegalStateException(
          "Cannot read the routing file " + path + " (ephemera.runners.routing.file): " + e, e);
    } catch (JacksonException e) {
      throw new IllegalStateException(
          "The routing file " + path + " is not valid YAML: " + e.getOriginalMessage(), e);
    }
    Map<String, String> flat = new LinkedHashMap<>();
    if (root != null && !root.isMissingNode() && !root.isNull()) {
      if (!root.isObject()) {
        throw new IllegalStateException(
            "The routing file " + path + " must be a mapping with rules: and default-route:");
      }
      flatten(ROOT, root, flat);
    }
    Shape shape;
    try {
      shape = new Binder(new MapConfigurationPropertySource(flat)).bindOrCreate(ROOT, Shape.class);
    } catch (BindException e) {
      throw new IllegalStateException(
          "The routing file " + path + " does not bind: " + rootMessage(e), e);
    }
    String where = "routing file " + path + ": ";
    try {
      return new Content(
          RoutingProperties.routeRules(shape.rules(), where + "rules"),
          RoutingProperties.defaultRunnerRoute(shape.defaultRoute(), where + "default-route"));
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  private static void flatten(String prefix, JsonNode node, Map<String, String> into) {
    if (node.isObject()) {
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        flatten(prefix + "." + e.getKey(), e.getValue(), into);
      }
    } else if (node.isArray()) {
      int i = 0;
      for (JsonNode element : node) {
        flatten(prefix + "[" + i++ + "]", element, into);
      }
    } else if (!node.isNull() && !node.isMissingNode()) {
      into.put(prefix, node.asString());
    }
  }

  private static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage();
  }
}
