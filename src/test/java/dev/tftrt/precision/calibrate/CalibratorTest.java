package dev.tftrt.precision.calibrate;

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
