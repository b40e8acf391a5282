package io.ephemera.worker.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The metrics docs/metrics.md documents: the first column of its tables, in backticks. */
final class MetricsDocs {
  static final Path FILE = Path.of("..", "docs", "metrics.md");

  /**
   * Documented metrics whose code is not on this branch yet. Each must be absent from the scrape;
   * once it is emitted, ObservabilityEndToEndTest says to delete it here.
   */
  // TODO(issue 7, workflow-side metrics by another engineer): phase transitions, deploy and
  //  teardown durations, runner queue and lifetime, through Workflow.getMetricsScope().
  // TODO(issue 6): the reconciler's metrics.
  static final Set<String> NOT_EMITTED_ON_THIS_BRANCH =
      Set.of(
          "ephemera_phase_transitions_total",
          "ephemera_deploy_duration_seconds",
          "ephemera_teardown_duration_seconds",
          "ephemera_runner_queue_seconds",
          "ephemera_runner_lifetime_seconds",
          "ephemera_reconciler_passes_total",
          "ephemera_orphans_found_total",
          "ephemera_orphans_reaped_total",
          "ephemera_repairs_total",
          "ephemera_reconciler_source_errors_total",
          "ephemera_oldest_resource_age_seconds",
          "ephemera_managed_resources");

  private static final Pattern ROW =
      Pattern.compile("(?m)^\\|\\s*`((?:ephemera|temporal)_[a-z0-9_]+)`");

  private final Set<String> names;

  private MetricsDocs(Set<String> names) {
    this.names = names;
  }

  static MetricsDocs load() {
    try {
      Matcher m = ROW.matcher(Files.readString(FILE));
      Set<String> names = new LinkedHashSet<>();
      while (m.find()) {
        names.add(m.group(1));
      }
      return new MetricsDocs(Set.copyOf(names));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every documented metric. */
  Set<String> names() {
    return names;
  }

  /**
   * The documented metrics this application registers itself or through the Temporal starter: all
   * of them (the page documents nothing else).
   */
  Set<String> registeredByTheApplication() {
    return names;
  }
}
