package io.ephemera.worker.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metrics docs/metrics.md documents: the first column of its tables, in backticks, and the
 * label names of the third (backticked names outside parentheses; what is inside lists values).
 */
final class MetricsDocs {
  static final Path FILE = Path.of("..", "docs", "metrics.md");

  private static final Pattern ROW =
      Pattern.compile("(?m)^\\|\\s*`((?:ephemera|temporal)_[a-z0-9_]+)`\\s*\\|[^|]*\\|([^|]*)\\|");
  private static final Pattern NAME = Pattern.compile("`([a-z_]+)`");

  private final Map<String, Set<String>> labels;

  private MetricsDocs(Map<String, Set<String>> labels) {
    this.labels = labels;
  }

  static MetricsDocs load() {
    try {
      Matcher m = ROW.matcher(Files.readString(FILE));
      Map<String, Set<String>> labels = new LinkedHashMap<>();
      while (m.find()) {
        Set<String> names = new LinkedHashSet<>();
        Matcher n = NAME.matcher(m.group(2).replaceAll("\\([^)]*\\)", ""));
        while (n.find()) {
          names.add(n.group(1));
        }
        labels.put(m.group(1), Set.copyOf(names));
      }
      return new MetricsDocs(Map.copyOf(labels));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every documented metric. */
  Set<String> names() {
    return labels.keySet();
  }

  /** The labels documented for {@code metric}; empty for "—". */
  Set<String> labels(String metric) {
    return labels.getOrDefault(metric, Set.of());
  }

  /**
   * The documented metrics this application registers itself or through the Temporal starter: all
   * of them (the page documents nothing else).
   */
  Set<String> registeredByTheApplication() {
    return names();
  }
}
