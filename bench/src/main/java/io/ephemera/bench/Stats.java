package io.ephemera.bench;

import java.util.Arrays;
import java.util.Collection;

/** Percentiles of a sample of durations in milliseconds (nearest-rank). */
record Stats(int n, double p50, double p99, double max, double mean) {

  static Stats of(Collection<Double> millis) {
    double[] v = millis.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return of(v);
  }

  static Stats of(double[] sorted) {
    double[] v = sorted.clone();
    Arrays.sort(v);
    if (v.length == 0) {
      return new Stats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
    return new Stats(
        v.length,
        rank(v, 0.50),
        rank(v, 0.99),
        v[v.length - 1],
        Arrays.stream(v).average().orElse(0));
  }

  private static double rank(double[] sorted, double q) {
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  /** {@code p50 / p99 / max} in ms. */
  String summary() {
    return n == 0 ? "no samples" : Report.ms(p50) + " / " + Report.ms(p99) + " / " + Report.ms(max);
  }
}
