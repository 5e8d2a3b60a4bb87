package dev.tftrt.precision.calibrate;

import java.nio.FloatBuffer;

/**
 * A bounded histogram of |x| over [0, range), {@value #BINS} bins: what calibration keeps per
 * tensor instead of the activations. The range starts at the first batch's max and, when a
 * later batch goes beyond it, doubles (adjacent bins merge in pairs), so memory stays fixed and
 * no count is ever dropped (TensorRT's calibrators grow their histograms the same way).
 */
public final class Histogram {
  public static final int BINS = 2048;

  private final long[] counts = new long[BINS];
  private double range; // 0 until a non-zero value is seen
  private double max;
  private long total;

  /** Adds every finite value of a float tensor's data. */
  public void add(FloatBuffer values) {
    FloatBuffer v = values.duplicate();
    float batchMax = 0;
    int n = v.remaining();
    for (int i = 0; i < n; i++) {
      float a = Math.abs(v.get(i));
      if (a > batchMax && a != Float.POSITIVE_INFINITY) batchMax = a;
    }
    if (batchMax > max) max = batchMax;
    if (range == 0 && batchMax > 0) range = batchMax * (1 + 1e-6);
    while (batchMax >= range && range > 0) grow();
    double perBin = range == 0 ? 0 : BINS / range;
    for (int i = 0; i < n; i++) {
      float a = Math.abs(v.get(i));
      if (Float.isNaN(a) || a == Float.POSITIVE_INFINITY) continue;
      int b = (int) (a * perBin);
      counts[Math.min(b, BINS - 1)]++;
      total++;
    }
  }

  private void grow() {
    for (int i = 0; i < BINS / 2; i++) counts[i] = counts[2 * i] + counts[2 * i + 1];
    java.util.Arrays.fill(counts, BINS / 2, BINS, 0);
    range *= 2;
  }

  /** Counts per bin (a copy). */
  public long[] counts() {
    return counts.clone();
  }

  /** Width of one bin; 0 when every value so far was zero. */
  public double binWidth() {
    return range / BINS;
  }

  /** The largest |x| seen. */
  public double max() {
    return max;
  }

  public long total() {
    return total;
  }
}
