package io.ephemera.bench;

import java.time.Duration;

/**
 * A benchmark's sizes, read from system properties {@code bench.<benchmark>.<knob>} (e.g. {@code
 * -Dbench.lifecycle.apps=20}). {@code bench.scale} multiplies every count knob, so {@code
 * -Dbench.scale=0.1} runs everything at a tenth of its size while developing.
 */
final class Knobs {
  private final String prefix;

  Knobs(String benchmark) {
    this.prefix = "bench." + benchmark + ".";
  }

  static double scale() {
    return Double.parseDouble(System.getProperty("bench.scale", "1"));
  }

  /** A count, scaled, at least {@code min}. */
  int count(String name, int full, int min) {
    String set = System.getProperty(prefix + name);
    if (set != null) {
      return Integer.parseInt(set);
    }
    return Math.max(min, (int) Math.round(full * scale()));
  }

  /** A setting that is not a size: never scaled. */
  int integer(String name, int value) {
    return Integer.parseInt(System.getProperty(prefix + name, Integer.toString(value)));
  }

  Duration duration(String name, Duration value) {
    String set = System.getProperty(prefix + name);
    return set == null ? value : Duration.parse(set);
  }

  String string(String name, String value) {
    return System.getProperty(prefix + name, value);
  }
}
