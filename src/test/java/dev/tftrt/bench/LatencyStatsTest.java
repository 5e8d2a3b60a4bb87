package dev.tftrt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Percentiles as numpy.percentile computes them (linear between ranks). */
class LatencyStatsTest {
  @Test
  void percentilesInterpolateBetweenRanksAsNumPyDoes() {
    // numpy.percentile(range(1, 11), [50, 90, 95, 99]) == [5.5, 9.1, 9.55, 9.91]
    LatencyStats s = LatencyStats.of(new double[] {7, 3, 10, 1, 5, 2, 9, 4, 8, 6});
    assertEquals(10, s.count());
    assertEquals(1, s.min());
    assertEquals(5.5, s.median(), 1e-12);
    assertEquals(9.1, s.p90(), 1e-12);
    assertEquals(9.55, s.p95(), 1e-12);
    assertEquals(9.91, s.p99(), 1e-12);
    assertEquals(10, s.max());
    assertEquals(5.5, s.mean(), 1e-12);
  }

  @Test
  void oddCountsHaveTheMiddleValueAsMedianAndTwoValuesInterpolate() {
    assertEquals(2, LatencyStats.of(new double[] {3, 1, 2}).median());
    LatencyStats two = LatencyStats.of(new double[] {20, 10});
    assertEquals(15, two.median(), 1e-12);
    assertEquals(19, two.p90(), 1e-12); // numpy.percentile([10, 20], 90) == 19.0
    assertEquals(19.9, two.p99(), 1e-12);
  }

  @Test
  void oneValueIsEveryPercentile() {
    LatencyStats s = LatencyStats.of(new double[] {4.25});
    assertEquals(4.25, s.min());
    assertEquals(4.25, s.median());
    assertEquals(4.25, s.p99());
    assertEquals(4.25, s.max());
  }

  @Test
  void theEndsAreMinAndMaxAndNothingIsRefusedSilently() {
    double[] sorted = {1, 2, 4, 8};
    assertEquals(1, LatencyStats.percentile(sorted, 0));
    assertEquals(8, LatencyStats.percentile(sorted, 100));
    assertEquals(3, LatencyStats.percentile(sorted, 50));
    assertThrows(IllegalArgumentException.class, () -> LatencyStats.percentile(sorted, 101));
    assertThrows(IllegalArgumentException.class, () -> LatencyStats.of(new double[0]));
  }

  @Test
  void theInputIsNotReordered() {
    double[] xs = {3, 1, 2};
    LatencyStats.of(xs);
    assertEquals(3, xs[0]); // the latencies kept for the JSON stay in call order
  }
}
