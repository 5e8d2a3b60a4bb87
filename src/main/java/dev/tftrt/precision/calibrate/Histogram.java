package dev.tftrt.precision.calibrate;

import java.nio.FloatBuffer;

/**
 * A bounded histogram of |x| over [0, range), {@value #BINS} bins: what calibration keeps per
 * tensor instead of the activations. The range starts at the first batch's max and, when a
 * later batch goes beyond it, doubles (adjacent bins merge in pairs), so memory stays fixed and
 * no count is ever dropped (TensorRT's calibrators grow their histograms the same way).
 *
 * <p>Calibration feeds it tens of millions of values per sample, so {@link #add} reads them in
 * chunks into an array (a direct buffer reads as fast as a heap one), takes the batch max in one
 * loop the JIT vectorizes, and counts into four interleaved tables, since a ReLU tensor's zeros
 * all land in bin 0 and one table would make every increment wait for the one before. A batch
 * holding NaN or infinity takes the plain per-value path; both give the same counts. Not
 * thread-safe: one thread adds to a histogram at a time.
 */
public final class Histogram {
  public static final int BINS = 2048;
  private static final int CHUNK = 4096;

  private final long[] counts = new long[BINS];
  private double range; // 0 until a non-zero value is seen
  private double max;
  private long total;

  /** Adds every finite value of a float tensor's data. */
  public void add(FloatBuffer values) {
    FloatBuffer v = values.duplicate();
    float[] chunk = new float[Math.min(CHUNK, Math.max(1, v.remaining()))];
    float m = 0;
    for (FloatBuffer c = v.duplicate(); c.hasRemaining(); ) {
      int len = Math.min(chunk.length, c.remaining());
      c.get(chunk, 0, len);
      m = maxAbs(chunk, len, m);
    }
    if (Float.isNaN(m) || m == Float.POSITIVE_INFINITY) {
      addChecked(v);
      return;
    }
    startOrGrow(m);
    double perBin = range == 0 ? 0 : BINS / range;
    int[] c0 = new int[BINS];
    int[] c1 = new int[BINS];
    int[] c2 = new int[BINS];
    int[] c3 = new int[BINS];
    int n = v.remaining();
    while (v.hasRemaining()) {
      int len = Math.min(chunk.length, v.remaining());
      v.get(chunk, 0, len);
      int j = 0;
      for (; j + 3 < len; j += 4) {
        c0[bin(chunk[j], perBin)]++;
        c1[bin(chunk[j + 1], perBin)]++;
        c2[bin(chunk[j + 2], perBin)]++;
        c3[bin(chunk[j + 3], perBin)]++;
      }
      for (; j < len; j++) c0[bin(chunk[j], perBin)]++;
    }
    for (int b = 0; b < BINS; b++) counts[b] += (long) c0[b] + c1[b] + c2[b] + c3[b];
    total += n;
  }

  private static float maxAbs(float[] a, int len, float m) {
    for (int i = 0; i < len; i++) m = Math.max(m, Math.abs(a[i])); // NaN stays NaN: caught by the caller
    return m;
  }

  private static int bin(float x, double perBin) {
    return Math.min((int) (Math.abs(x) * perBin), BINS - 1);
  }

  /** The per-value path, skipping NaN and infinities: the fast path's reference. */
  private void addChecked(FloatBuffer v) {
    float batchMax = 0;
    int n = v.remaining();
    for (int i = 0; i < n; i++) {
      float a = Math.abs(v.get(i));
      if (a > batchMax && a != Float.POSITIVE_INFINITY) batchMax = a;
    }
    startOrGrow(batchMax);
    double perBin = range == 0 ? 0 : BINS / range;
    for (int i = 0; i < n; i++) {
      float a = Math.abs(v.get(i));
      if (Float.isNaN(a) || a == Float.POSITIVE_INFINITY) continue;
      int b = (int) (a * perBin);
      counts[Math.min(b, BINS - 1)]++;
      total++;
    }
  }

  private void startOrGrow(float batchMax) {
    if (batchMax > max) max = batchMax;
    if (range == 0 && batchMax > 0) range = batchMax * (1 + 1e-6);
    while (batchMax >= range && range > 0) grow();
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
