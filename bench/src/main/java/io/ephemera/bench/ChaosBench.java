package io.ephemera.bench;

import io.ephemera.sandbox.SandboxCluster;
import io.ephemera.sandbox.SandboxEc2;
import io.ephemera.sandbox.SandboxGitLab;
import io.ephemera.sandbox.SandboxRegistry;
import io.ephemera.sandbox.SandboxVault;
import io.ephemera.worker.chaos.ChaosDriver;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.context.Lifecycle;

/**
 * The chaos suite at full size: 1,000 mixed lifecycles under 20% faults in every sandbox with three
 * worker restarts, driven by the worker module's {@link ChaosDriver} (the same code as {@code
 * ChaosTest}, which runs 300 in {@code .ci/run}). Its target is correctness, not speed: no
 * violation. The durations say how long the system took to settle.
 */
final class ChaosBench implements Benchmark {
  static final String NAME = "chaos";
  private final Knobs knobs = new Knobs(NAME);

  @Override
  public Report run() throws Exception {
    int lifecycles = knobs.count("lifecycles", 1_000, 20);
    double probability = Double.parseDouble(knobs.string("probability", "0.2"));
    int restarts = knobs.integer("restarts", 3);
    int concurrency = knobs.integer("concurrency", 24);
    Duration settle = knobs.duration("settle", Duration.ofMinutes(5));
    String seedKnob = knobs.string("seed", null);
    long seed = seedKnob != null ? Long.parseLong(seedKnob) : ChaosDriver.seed();
    Report report = new Report(NAME);
    Map<String, String> settings = new LinkedHashMap<>(ChaosDriver.applicationProperties());
    // App's defaults set zero delays too; the driver's settings win where they differ.
    try (App app = App.start(NAME, settings)) {
      Lifecycle worker = app.bean("ephemeraWorker", Lifecycle.class);
      ChaosDriver driver =
          new ChaosDriver(
              new ChaosDriver.Target(
                  app.port,
                  app.webhookToken,
                  app.client,
                  app.bean(SandboxCluster.class),
                  app.bean(SandboxGitLab.class),
                  app.optionalBean(SandboxEc2.class).orElse(null),
                  app.bean(SandboxVault.class),
                  app.bean(SandboxRegistry.class),
                  () -> {
                    worker.stop();
                    worker.start();
                  }),
              new ChaosDriver.Settings(
                  seed, lifecycles, probability, restarts, concurrency, settle));
      ChaosDriver.Result result = driver.run();

      report.table(
          "%d lifecycles, fault probability %s, %d worker restarts, %d in flight"
              .formatted(lifecycles, probability, restarts, concurrency),
          "figure",
          "value");
      for (List<String> row : result.rows()) {
        report.row(row.get(0), row.get(1).replace("|", "\\|"));
      }
      if (!result.violations().isEmpty()) {
        report.note("Violations (first 20):");
        result.violations().stream().limit(20).forEach(v -> report.note("- " + v));
      }
      report.check(
          "violations (state, leaks, double deploys, lost deliveries)",
          Integer.toString(result.violations().size()),
          "0",
          result.passed(),
          "seed " + seed);
      report.check(
          "worker restarts done",
          Integer.toString(result.restarts()),
          Integer.toString(restarts),
          result.restarts() == restarts,
          null);
    }
    return report;
  }
}
