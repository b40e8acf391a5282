package io.ephemera.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A benchmark's result: free-form tables, then the checks against its targets, then the machine and
 * the exact command. Printed, and written to {@code bench/results/<name>.md} so that the README's
 * table can be refreshed from it.
 */
final class Report {
  private final String name;
  private final String loadAtStart = Machine.load();
  private final List<String> body = new ArrayList<>();
  private final List<Check> checks = new ArrayList<>();

  /** One figure against its target. {@code pass} is null when the benchmark could not judge. */
  record Check(String what, String figure, String target, Boolean pass, String note) {
    String verdict() {
      return pass == null ? "n/a" : pass ? "PASS" : "MISS";
    }
  }

  Report(String name) {
    this.name = name;
  }

  /** Starts a table. */
  Report table(String title, String... header) {
    body.add("");
    body.add("### " + title);
    body.add("");
    body.add("| " + String.join(" | ", header) + " |");
    body.add("|" + "---|".repeat(header.length));
    return this;
  }

  Report row(Object... cells) {
    List<String> s = new ArrayList<>();
    for (Object c : cells) {
      s.add(String.valueOf(c));
    }
    body.add("| " + String.join(" | ", s) + " |");
    return this;
  }

  Report note(String text) {
    body.add("");
    body.add(text);
    return this;
  }

  Report check(String what, String figure, String target, Boolean pass, String note) {
    checks.add(new Check(what, figure, target, pass, note == null ? "" : note));
    return this;
  }

  boolean passed() {
    return !checks.isEmpty() && checks.stream().allMatch(c -> Boolean.TRUE.equals(c.pass()));
  }

  String markdown() {
    List<String> out = new ArrayList<>();
    out.add("## " + name + " — " + LocalDate.now(ZoneOffset.UTC));
    out.addAll(body);
    out.add("");
    out.add("### Targets");
    out.add("");
    out.add("| check | figure | target | verdict | note |");
    out.add("|---|---|---|---|---|");
    for (Check c : checks) {
      out.add(
          "| "
              + c.what()
              + " | "
              + c.figure()
              + " | "
              + c.target()
              + " | **"
              + c.verdict()
              + "** | "
              + c.note()
              + " |");
    }
    out.add("");
    out.add("### Machine and command");
    out.add("");
    out.add("- machine: " + Machine.describe());
    out.add("- load average (1/5/15 min): at start " + loadAtStart + ", at end " + Machine.load());
    out.add(
        "- JVM options: `"
            + String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments())
            + "`");
    out.add(
        "- command: `"
            + System.getProperty("bench.command", "(not started by bench/run.sh)")
            + "`");
    out.add("");
    return String.join("\n", out);
  }

  void print() {
    System.out.println();
    System.out.println(markdown());
    System.out.println(name + ": " + (passed() ? "PASS" : "MISS"));
  }

  void write() {
    Path dir = Path.of(System.getProperty("bench.results", "bench/results"));
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(name + ".md"), markdown());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String ms(double millis) {
    if (Double.isNaN(millis)) {
      return "–";
    }
    return millis >= 100
        ? String.format(Locale.ROOT, "%.0f ms", millis)
        : String.format(Locale.ROOT, "%.1f ms", millis);
  }

  static String num(double v) {
    return String.format(Locale.ROOT, v >= 100 ? "%.0f" : "%.2f", v);
  }

  static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.0f MiB", bytes / (1024.0 * 1024.0));
  }
}
