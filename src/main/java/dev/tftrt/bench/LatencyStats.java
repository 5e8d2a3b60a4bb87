package dev.tftrt.bench;

import java.util.Arrays;

/**
 * The figures of a set of latencies, in milliseconds. Percentiles interpolate linearly between
 * the two nearest ranks (NumPy's default, {@code numpy.percentile(x, p)}), so the median of an
 * even count is the mean of the middle two and p99 of a short run is not simply its maximum.
 */
public record LatencyStats(int count, double min, double median, double p90, double p95, double p99,
    double max, double mean) {

  public static LatencyStats of(double[] millis) {
    if (millis.length == 0) throw new IllegalArgumentException("no latencies measured");
    double[] s = millis.clone();
    Arrays.sort(s);
    double sum = 0;
    for (double x : s) sum += x;
    return new LatencyStats(s.length, s[0], percentile(s, 50), percentile(s, 90), percentile(s, 95),
        percentile(s, 99), s[s.length - 1], sum / s.length);
  }

  /** The p-th percentile (0..100) of sorted values: rank p/100 * (n - 1), interpolated. */
  public static double percentile(double[] sorted, double p) {
    if (sorted.length == 0) throw new IllegalArgumentException("no values");
    if (p < 0 || p > 100) throw new IllegalArgumentException("percentile " + p + " is not in 0..100");
    double rank = p / 100 * (sorted.length - 1);
    int lo = (int) Math.floor(rank);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (rank - lo) * (sorted[hi] - sorted[lo]);
  }
}
