package dev.tftrt.runtime;

import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Output-by-output differences between two runs, with NumPy allclose semantics. */
public final class Comparison {
  private Comparison() {}

  /**
   * One output's figures. Within tolerance when |a - b| <= atol + rtol * |b| everywhere (b is
   * the reference), shapes and dtypes equal, and NaNs (and same-signed infinities) in the same
   * places: those agree, and are counted in {@code agreeingNonFinite}. {@code referenceNaN} and
   * {@code referenceInf} count them in the reference, which makes a check on these inputs weak.
   */
  public record Diff(String name, double maxAbs, double maxRel, double cosine, boolean identical,
      boolean withinTolerance, String problem, long agreeingNonFinite, long referenceNaN, long referenceInf) {
    public Diff(String name, double maxAbs, double maxRel, double cosine, boolean identical,
        boolean withinTolerance, String problem) {
      this(name, maxAbs, maxRel, cosine, identical, withinTolerance, problem, 0, 0, 0);
    }

    /** NaN or Inf anywhere in the reference. */
    public boolean referenceNonFinite() {
      return referenceNaN + referenceInf > 0;
    }

    /** "NaN" or "Inf": what the reference gives that is not a number. */
    public String referenceNonFiniteKind() {
      return referenceNaN > 0 ? "NaN" : "Inf";
    }

    /** The same figures, failed for the given reason. */
    public Diff failed(String why) {
      return new Diff(name, maxAbs, maxRel, cosine, identical, false, why, agreeingNonFinite, referenceNaN, referenceInf);
    }
  }

  public static List<Diff> compare(List<String> names, Map<String, HostTensor> a,
      Map<String, HostTensor> b, double rtol, double atol) {
    List<Diff> r = new ArrayList<>();
    for (String n : names) r.add(diff(n, a.get(n), b.get(n), rtol, atol));
    return r;
  }

  public static Diff diff(String name, HostTensor a, HostTensor b, double rtol, double atol) {
    if (a == null || b == null) {
      return new Diff(name, Double.NaN, Double.NaN, Double.NaN, false, false,
          "missing from " + (a == null ? "the first" : "the second") + " model's outputs");
    }
    if (!Arrays.equals(a.shape(), b.shape())) {
      return new Diff(name, Double.NaN, Double.NaN, Double.NaN, false, false,
          "shapes differ: reference " + Arrays.toString(b.shape()) + ", got " + Arrays.toString(a.shape()));
    }
    if (a.dtype() != b.dtype()) {
      return new Diff(name, Double.NaN, Double.NaN, Double.NaN, false, false,
          "dtypes differ: reference " + DTypes.name(b.dtype()) + ", got " + DTypes.name(a.dtype()));
    }
    boolean identical = a.contentEquals(b);
    if (a.dtype() == org.tensorflow.proto.DataType.DT_STRING) {
      return new Diff(name, 0, 0, identical ? 1 : 0, identical, identical,
          identical ? null : "string values differ");
    }
    double maxAbs = 0, maxRel = 0, dot = 0, na = 0, nb = 0;
    boolean ok = true;
    long n = a.numElements();
    long agreeing = 0, refNaN = 0, refInf = 0, onlyA = 0, onlyB = 0;
    for (long i = 0; i < n; i++) {
      double x = a.getDouble(i), y = b.getDouble(i);
      if (Double.isNaN(y)) refNaN++;
      else if (Double.isInfinite(y)) refInf++;
      if (!Double.isFinite(x) || !Double.isFinite(y)) {
        // Both NaN, or the same infinity, agree; anything else is a place where they differ.
        if ((Double.isNaN(x) && Double.isNaN(y)) || x == y) agreeing++;
        else if (Double.isFinite(x)) onlyB++;
        else onlyA++;
        continue;
      }
      double d = Math.abs(x - y);
      maxAbs = Math.max(maxAbs, d);
      if (y != 0) maxRel = Math.max(maxRel, d / Math.abs(y));
      else if (d > 0) maxRel = Double.POSITIVE_INFINITY;
      if (d > atol + rtol * Math.abs(y)) ok = false;
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
    if (onlyA + onlyB > 0) ok = false;
    double cos = na == 0 && nb == 0 ? 1 : (na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb));
    String problem = null;
    if (!(ok || identical)) {
      if (onlyB > 0) problem = "the reference gives NaN or Inf in " + onlyB + " place(s) where the other gives numbers";
      else if (onlyA > 0) problem = "NaN or Inf in " + onlyA + " place(s) where the reference gives numbers";
      else problem = "outside tolerance";
    }
    return new Diff(name, maxAbs, maxRel, cos, identical, ok || identical, problem, agreeing, refNaN, refInf);
  }
}
