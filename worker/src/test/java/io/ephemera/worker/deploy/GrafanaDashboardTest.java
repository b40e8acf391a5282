package io.ephemera.worker.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** deploy/grafana/ephemera.json queries only metrics docs/metrics.md documents. */
class GrafanaDashboardTest {
  static final Path DASHBOARD = Path.of("..", "deploy", "grafana", "ephemera.json");
  private static final Pattern METRIC = Pattern.compile("\\b((?:ephemera|temporal)_[a-z0-9_]+)");

  static List<String> expressions() {
    JsonNode dashboard = JsonMapper.builder().build().readTree(DASHBOARD.toFile());
    List<String> exprs = new ArrayList<>();
    collect(dashboard, exprs);
    return exprs;
  }

  private static void collect(JsonNode node, List<String> into) {
    if (node.isObject()) {
      for (var e : node.properties()) {
        if (e.getKey().equals("expr") && e.getValue().isString()) {
          into.add(e.getValue().asString());
        } else {
          collect(e.getValue(), into);
        }
      }
    } else if (node.isArray()) {
      node.forEach(n -> collect(n, into));
    }
  }

  /** Metric names in PromQL, with the histogram series suffixes folded to the family. */
  static Set<String> metrics(String expr) {
    Set<String> names = new TreeSet<>();
    Matcher m = METRIC.matcher(expr);
    while (m.find()) {
      names.add(m.group(1).replaceFirst("_(bucket|count|sum)$", ""));
    }
    return names;
  }

  @Test
  void everyQueryUsesOnlyDocumentedMetrics() {
    List<String> exprs = expressions();
    assertThat(exprs).hasSizeGreaterThan(10);
    Set<String> documented = MetricsDocs.load().names();
    Set<String> used = new TreeSet<>();
    for (String expr : exprs) {
      Set<String> names = metrics(expr);
      assertThat(names).as("a query without a metric: " + expr).isNotEmpty();
      used.addAll(names);
      assertThat(documented).as("metrics of " + expr).containsAll(names);
    }
    // The panels the issue asks for, by the metric each is built on.
    assertThat(used)
        .contains(
            "ephemera_managed_resources",
            "ephemera_deploy_duration_seconds",
            "ephemera_teardown_duration_seconds",
            "ephemera_runner_queue_seconds",
            "ephemera_runner_lifetime_seconds",
            "ephemera_orphans_reaped_total",
            "ephemera_webhook_deliveries_total");
  }

  @Test
  void histogramSuffixesFoldToTheDocumentedFamily() {
    assertThat(
            metrics("histogram_quantile(0.9, rate(ephemera_deploy_duration_seconds_bucket[5m]))"))
        .containsExactly("ephemera_deploy_duration_seconds");
    assertThat(metrics("sum(rate(ephemera_webhook_deliveries_total{outcome!=\"accepted\"}[1m]))"))
        .containsExactly("ephemera_webhook_deliveries_total");
  }
}
