package dev.tftrt.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.tensor.HostTensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Comparison.diff: NumPy allclose semantics with the second tensor as the reference. */
class ComparisonTest {
  private static HostTensor f(float... v) {
    return HostTensor.ofFloats(new long[] {v.length}, v);
  }

  @Test
  @DisplayName("equal tensors are identical, with zero error and cosine 1")
  void identical() {
    Comparison.Diff d = Comparison.diff("y", f(1, -2, 3), f(1, -2, 3), 0, 0);
    assertTrue(d.identical());
    assertTrue(d.withinTolerance());
    assertEquals(0.0, d.maxAbs());
    assertEquals(0.0, d.maxRel());
    assertEquals(1.0, d.cosine(), 1e-12);
    assertNull(d.problem());
  }

  @Test
  @DisplayName("a small difference is within tolerance but not identical")
  void withinTolerance() {
    Comparison.Diff d = Comparison.diff("y", f(1f, 2.5f), f(1f, 2.5f + 1e-6f), 1e-5, 0);
    assertFalse(d.identical());
    assertTrue(d.withinTolerance());
    assertEquals((double) ((2.5f + 1e-6f) - 2.5f), d.maxAbs());
  }

  @Test
  @DisplayName("a difference beyond atol + rtol * |reference| fails")
  void outsideTolerance() {
    Comparison.Diff d = Comparison.diff("y", f(0f, 10f), f(0f, 11f), 0.01, 0.1);
    assertFalse(d.withinTolerance());
    assertEquals("outside tolerance", d.problem());
    assertEquals(1.0, d.maxAbs());
    assertEquals(1.0 / 11, d.maxRel(), 1e-12);
  }

  @Test
  @DisplayName("rtol scales with the reference (the second tensor), as numpy.allclose does")
  void relativeToReference() {
    assertTrue(Comparison.diff("y", f(2f), f(3f), 0.4, 0).withinTolerance()); // 1 <= 0.4 * 3
    assertFalse(Comparison.diff("y", f(3f), f(2f), 0.4, 0).withinTolerance()); // 1 > 0.4 * 2
  }

  @Test
  @DisplayName("different shapes are reported, never within tolerance")
  void shapeMismatch() {
    Comparison.Diff d = Comparison.diff("y", f(1, 2), f(1, 2, 3), 1, 1);
    assertFalse(d.withinTolerance());
    assertEquals("shapes differ: reference [3], got [2]", d.problem());
  }

  @Test
  @DisplayName("different dtypes are reported")
  void dtypeMismatch() {
    Comparison.Diff d = Comparison.diff("y", f(1), HostTensor.ofInts(new long[] {1}, 1), 1, 1);
    assertFalse(d.withinTolerance());
    assertEquals("dtypes differ: reference int32, got float32", d.problem());
  }

  @Test
  @DisplayName("NaN matches NaN in the same place only")
  void nans() {
    assertTrue(Comparison.diff("y", f(Float.NaN, 1), f(Float.NaN, 1), 0, 0).withinTolerance());
    assertFalse(Comparison.diff("y", f(Float.NaN, 1), f(1, 1), 1, 1).withinTolerance());
    assertFalse(Comparison.diff("y", f(Float.POSITIVE_INFINITY), f(Float.NEGATIVE_INFINITY), 1, 1).withinTolerance());
  }

  @Test
  @DisplayName("agreeing NaN and same-signed Inf are counted; one side's NaN is said as such, not as an error of 0")
  void nonFiniteCounts() {
    Comparison.Diff ok = Comparison.diff("y", f(Float.NaN, Float.NEGATIVE_INFINITY, 1), f(Float.NaN, Float.NEGATIVE_INFINITY, 1), 0, 0);
    assertTrue(ok.withinTolerance());
    assertEquals(2, ok.agreeingNonFinite());
    assertEquals(1, ok.referenceNaN());
    assertEquals(1, ok.referenceInf());
    Comparison.Diff ref = Comparison.diff("y", f(2, 1), f(Float.NaN, 1), 0, 0);
    assertFalse(ref.withinTolerance());
    assertEquals("the reference gives NaN or Inf in 1 place(s) where the other gives numbers", ref.problem());
    assertTrue(ref.referenceNonFinite());
    Comparison.Diff got = Comparison.diff("y", f(Float.POSITIVE_INFINITY, 1), f(2, 1), 0, 0);
    assertEquals("NaN or Inf in 1 place(s) where the reference gives numbers", got.problem());
    assertFalse(got.referenceNonFinite());
  }

  @Test
  @DisplayName("an output missing on one side is reported by name")
  void missingOutput() {
    List<Comparison.Diff> ds = Comparison.compare(List.of("a", "b"), Map.of("a", f(1), "b", f(2)), Map.of("a", f(1)),
        0, 0);
    assertTrue(ds.get(0).identical());
    assertEquals("b", ds.get(1).name());
    assertFalse(ds.get(1).withinTolerance());
    assertEquals("missing from the second model's outputs", ds.get(1).problem());
  }
}
