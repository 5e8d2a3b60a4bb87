package dev.tftrt.precision.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The chunked, vectorized histogram counts exactly what the per-value one did. */
class HistogramTest {
  /** The per-value algorithm as it was before the fast path, kept here as the reference. */
  static final class Reference {
    final long[] counts = new long[Histogram.BINS];
    double range;
    double max;
    long total;

    void add(FloatBuffer values) {
      FloatBuffer v = values.duplicate();
      float batchMax = 0;
      int n = v.remaining();
      for (int i = 0; i < n; i++) {
        float a = Math.abs(v.get(i));
        if (a > batchMax && a != Float.POSITIVE_INFINITY) batchMax = a;
      }
      if (batchMax > max) max = batchMax;
      if (range == 0 && batchMax > 0) range = batchMax * (1 + 1e-6);
      while (batchMax >= range && range > 0) {
        for (int i = 0; i < Histogram.BINS / 2; i++) counts[i] = counts[2 * i] + counts[2 * i + 1];
        java.util.Arrays.fill(counts, Histogram.BINS / 2, Histogram.BINS, 0);
        range *= 2;
      }
      double perBin = range == 0 ? 0 : Histogram.BINS / range;
      for (int i = 0; i < n; i++) {
        float a = Math.abs(v.get(i));
        if (Float.isNaN(a) || a == Float.POSITIVE_INFINITY) continue;
        counts[Math.min((int) (a * perBin), Histogram.BINS - 1)]++;
        total++;
      }
    }
  }

  private static FloatBuffer direct(float[] v) {
    FloatBuffer b = ByteBuffer.allocateDirect(v.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    b.put(v).flip();
    return b;
  }

  @Test
  void countsMaxAndRangeMatchThePerValueAlgorithmBitForBit() {
    Random r = new Random(7);
    Histogram fast = new Histogram();
    Reference ref = new Reference();
    int[] sizes = {0, 1, 3, 4, 5, 4095, 4096, 4097, 30_000, 100_003};
    for (int round = 0; round < 40; round++) {
      int n = sizes[round % sizes.length];
      float[] v = new float[n];
      double scale = Math.pow(2, round / 3.0); // later batches exceed the range: it grows
      for (int i = 0; i < n; i++) {
        double g = r.nextGaussian() * scale;
        v[i] = (float) (r.nextInt(3) == 0 ? Math.max(0, g) : g); // a ReLU's zeros too
      }
      if (n > 10 && round % 4 == 1) v[r.nextInt(n)] = Float.NaN;
      if (n > 10 && round % 4 == 2) v[r.nextInt(n)] = Float.NEGATIVE_INFINITY;
      if (n > 10 && round % 5 == 3) v[r.nextInt(n)] = -0f;
      FloatBuffer b = round % 2 == 0 ? FloatBuffer.wrap(v) : direct(v);
      fast.add(b);
      ref.add(b);
      assertArrayEquals(ref.counts, fast.counts(), "round " + round);
      assertEquals(ref.total, fast.total(), "round " + round);
      assertEquals(Double.doubleToLongBits(ref.max), Double.doubleToLongBits(fast.max()), "round " + round);
      assertEquals(Double.doubleToLongBits(ref.range / Histogram.BINS), Double.doubleToLongBits(fast.binWidth()));
    }
  }

  @Test
  void allZerosStayInBinZeroWithoutARange() {
    Histogram h = new Histogram();
    h.add(FloatBuffer.wrap(new float[10_001]));
    assertEquals(10_001, h.counts()[0]);
    assertEquals(0, h.binWidth());
    h.add(FloatBuffer.wrap(new float[] {Float.NaN, Float.POSITIVE_INFINITY, 0f}));
    assertEquals(10_002, h.total());
  }

  @Test
  void aBufferIsReadFromItsPositionAndLeftUnmoved() {
    float[] v = {9f, 1f, 2f, 3f};
    FloatBuffer b = FloatBuffer.wrap(v);
    b.position(1);
    Histogram h = new Histogram();
    h.add(b);
    assertEquals(3.0, h.max(), 0);
    assertEquals(3, h.total());
    assertEquals(1, b.position());
  }
}
