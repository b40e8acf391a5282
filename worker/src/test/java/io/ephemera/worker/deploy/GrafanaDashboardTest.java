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

/**
 * deploy/grafana/ephemera.json queries only metrics docs/metrics.md documents. That those metrics,
 * and the labels and label values the queries select on, are in a real scrape is checked by
 * ObservabilityEndToEndTest.
 */
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
    for (String expr : exprs) {
      Set<String> names = metrics(expr);
      assertThat(names).as("a query without a metric: " + expr).isNotEmpty();
      assertThat(documented).as("metrics of " + expr).containsAll(names);
    }
  }

  /**
   * The panels an operator needs, by the query each is built on: review apps live, deploy and
   * teardown durations, runner queue time and lifetime, orphans reaped, webhook failures.
   */
  @Test
  void theDashboardHasThePanelsAnOperatorNeeds() {
    String all = String.join("\n", expressions());
    assertThat(all)
        .contains(
            "ephemera_managed_resources{kind=\"namespace\"}",
            "ephemera_deploy_duration_seconds_bucket",
            "ephemera_teardown_duration_seconds_bucket",
            "ephemera_runner_queue_seconds_bucket",
            "ephemera_runner_lifetime_seconds_bucket",
            "ephemera_orphans_reaped_total",
            "ephemera_webhook_deliveries_total{outcome!~\"accepted|ignored\"}");
  }

  /** The scrape check ObservabilityEndToEndTest runs on every query can fail. */
  @Test
  void aQueryOnASeriesLabelOrValueTheScrapeLacksIsReported() {
    List<ObservabilityEndToEndTest.Sample> scrape =
        ObservabilityEndToEndTest.samples(
            "# TYPE ephemera_managed_resources gauge\n"
                + "ephemera_managed_resources{kind=\"namespace\"} 1.0\n"
                + "ephemera_x_seconds_bucket{kind=\"a\",le=\"1.0\"} 0\n");
    assertThat(scrape).hasSize(2);
    assertThat(problems("sum(ephemera_managed_resources{kind=\"namespace\"})", scrape)).isEmpty();
    assertThat(problems("sum(ephemera_managed_resources{kind=~\"lease|x\"})", scrape)).isEmpty();
    assertThat(problems("sum(ephemera_managed_resources{kind=\"lease\"})", scrape)).hasSize(1);
    assertThat(problems("sum(ephemera_managed_resources{phase!=\"x\"})", scrape)).hasSize(1);
    assertThat(problems("sum by (phase) (ephemera_managed_resources)", scrape)).hasSize(1);
    assertThat(problems("sum(rate(ephemera_unknown_total[1m]))", scrape)).hasSize(1);
    assertThat(
            problems(
                "histogram_quantile(0.9, sum by (le) (rate(ephemera_x_seconds_bucket[5m])))",
                scrape))
        .isEmpty();
  }

  private static List<String> problems(String expr, List<ObservabilityEndToEndTest.Sample> s) {
    return ObservabilityEndToEndTest.dashboardQueryProblems(expr, s);
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
