package dev.tftrt.precision.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Histograms stay bounded without losing counts; calibrators behave as their rules say. */
class CalibratorTest {
  private static float[] gaussianWithOutliers(int n, int outliers, float at) {
    Random r = new Random(3);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
    for (int i = 0; i < outliers; i++) v[r.nextInt(n)] = at * (i % 2 == 0 ? 1 : -1);
    return v;
  }

  /**
   * Mean squared error of symmetric int8 quantize-dequantize at amax (as ONNX Runtime does it)
   * over the ordinary values, |x| < 10: the resolution the outliers cost everyone else.
   */
  private static double qdqError(float[] v, double amax) {
    double s = amax / 127;
    double e = 0;
    for (float x : v) {
      if (Math.abs(x) >= 10) continue;
      double q = Math.max(-128, Math.min(127, Math.rint(x / s)));
      e += (q * s - x) * (q * s - x);
    }
    return e / v.length;
  }

  @Test
  void maxIsWorseThanTheClippingCalibratorsOnATensorWithOutliers() {
    float[] v = gaussianWithOutliers(200_000, 20, 60f);
    Histogram h = new Histogram();
    h.add(FloatBuffer.wrap(v, 0, 100_000));
    h.add(FloatBuffer.wrap(v, 100_000, 100_000));
    double max = Calibrator.MAX.amax(h, 99.99);
    assertEquals(60.0, max, 1e-6);
    for (Calibrator c : new Calibrator[] {Calibrator.PERCENTILE, Calibrator.ENTROPY, Calibrator.MSE}) {
      double a = c.amax(h, Calibrator.DEFAULT_PERCENTILE);
      assertTrue(a < max, c + " keeps the outliers: " + a);
      assertTrue(qdqError(v, max) > qdqError(v, a), c + ": error at max " + qdqError(v, max) + ", at " + a + " "
          + qdqError(v, a));
    }
  }

  /**
   * Values many elements share exactly (a channel's response to a blank background, one per
   * channel) are spikes in the histogram; they must not pull the entropy clip down, as they did
   * on the Fashion-MNIST classifier (clip 6.1 became 3.6, top-1 agreement 99.6% became 98.4%).
   */
  @Test
  void pointMassesDoNotPullTheEntropyClipDown() {
    Random r = new Random(11);
    int n = 400_000;
    float[] smooth = new float[n];
    for (int i = 0; i < n; i++) smooth[i] = (float) (-Math.log(1 - r.nextDouble()) * 0.8); // exponential, long tail
    float[] spiky = smooth.clone();
    // sixteen background responses, 40% of the values, spread over the dense part of the range
    for (int i = 0; i < n * 4 / 10; i++) spiky[i] = 0.05f + 0.11f * (i % 16);
    Histogram plain = new Histogram();
    plain.add(FloatBuffer.wrap(smooth));
    Histogram spikes = new Histogram();
    spikes.add(FloatBuffer.wrap(spiky));
    double without = Calibrator.ENTROPY.amax(plain, Calibrator.DEFAULT_PERCENTILE);
    double with = Calibrator.ENTROPY.amax(spikes, Calibrator.DEFAULT_PERCENTILE);
    assertTrue(with > 0.85 * without, "spikes moved the clip from " + without + " to " + with);
    // the spikes are flattened to their neighbourhood; a comb of discrete values is not
    long[] comb = new long[64];
    for (int k = 4; k < comb.length; k += 8) comb[k] = 1000;
    assertArrayEquals(comb, Calibrator.withoutAtoms(comb));
    long[] dense = new long[64];
    java.util.Arrays.fill(dense, 100);
    dense[20] = 5000;
    dense[0] = 9000; // ReLU's zeros
    long[] flat = Calibrator.withoutAtoms(dense);
    assertEquals(100, flat[20]);
    assertEquals(100, flat[0]);
    // spikes side by side, next to bin 0's zeros (a fresh clone's network had them, and a window
    // holding the spike itself let them through)
    long[] edge = new long[64];
    java.util.Arrays.fill(edge, 100);
    edge[0] = 90_000;
    edge[1] = 5000;
    edge[2] = 6000;
    long[] e = Calibrator.withoutAtoms(edge);
    assertEquals(100, e[1]);
    assertEquals(100, e[2]);
    assertEquals(100, e[0]);
  }

  @Test
  void withoutOutliersEveryCalibratorStaysNearTheRange() {
    float[] v = new float[50_000];
    Random r = new Random(5);
    for (int i = 0; i < v.length; i++) v[i] = r.nextFloat() * 2 - 1; // uniform: nothing to clip
    Histogram h = new Histogram();
    h.add(FloatBuffer.wrap(v));
    for (Calibrator c : Calibrator.values()) {
      double a = c.amax(h, Calibrator.DEFAULT_PERCENTILE);
      assertTrue(a > 0.9 && a <= 1.0, c + " gives " + a);
    }
  }

  @Test
  void histogramGrowsWithoutDroppingCounts() {
    Histogram h = new Histogram();
    h.add(FloatBuffer.wrap(new float[] {0.5f, -1f, 0f}));
    h.add(FloatBuffer.wrap(new float[] {100f, Float.NaN, 3f}));
    assertEquals(5, h.total());
    assertEquals(100.0, h.max(), 0);
    long sum = 0;
    for (long c : h.counts()) sum += c;
    assertEquals(5, sum);
    assertTrue(h.binWidth() * Histogram.BINS > 100);
    assertEquals(0, Calibrator.ENTROPY.amax(new Histogram(), 99.99), "no data, no range");
  }

  @Test
  void percentileClipsTheTop() {
    float[] v = new float[10_000];
    for (int i = 0; i < v.length; i++) v[i] = i < 9_990 ? 1f : 50f; // 0.1% at 50
    Histogram h = new Histogram();
    h.add(FloatBuffer.wrap(v));
    assertTrue(Calibrator.PERCENTILE.amax(h, 99.0) < 1.1);
    assertEquals(50.0, Calibrator.PERCENTILE.amax(h, 99.99), 0.1);
  }
}
