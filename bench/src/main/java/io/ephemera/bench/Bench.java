package io.ephemera.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Entry point: {@code Bench <name>} runs one benchmark in this JVM and exits 0 when it met its
 * target, 1 when it missed, 2 when it could not run. {@code bench/run.sh} starts one JVM per
 * benchmark so that no benchmark inherits another's heap, threads or JIT state.
 */
public final class Bench {
  static final Map<String, Supplier<Benchmark>> ALL = new LinkedHashMap<>();

  static {
    ALL.put("webhook-ingest", WebhookIngestBench::new);
    ALL.put("lifecycle", LifecycleBench::new);
    ALL.put("fleet", FleetBench::new);
    ALL.put("timer-herd", TimerHerdBench::new);
    ALL.put("reconciler", ReconcilerBench::new);
    ALL.put("runners", RunnersBench::new);
    ALL.put("chaos", ChaosBench::new);
  }

  private Bench() {}

  public static void main(String[] args) {
    if (args.length != 1 || !ALL.containsKey(args[0])) {
      System.err.println("usage: Bench <name>, one of " + List.copyOf(ALL.keySet()));
      System.exit(2);
    }
    int code;
    try {
      Report report = ALL.get(args[0]).get().run();
      report.print();
      report.write();
      code = report.passed() ? 0 : 1;
    } catch (Benchmark.CannotRun e) {
      System.err.println(args[0] + ": " + e.getMessage());
      code = 2;
    } catch (Exception e) {
      System.err.println(args[0] + " failed:");
      e.printStackTrace();
      code = 2;
    }
    // The application's non-daemon threads (web server, Temporal) must not keep the JVM alive.
    System.exit(code);
  }
}
