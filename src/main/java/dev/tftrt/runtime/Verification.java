package dev.tftrt.runtime;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.HostTensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a reference model and a candidate (frozen, exported, converted) on the same inputs and
 * compares every output. Inputs and outputs are paired by name, see {@link Matching}.
 */
public final class Verification {
  private Verification() {}

  /** The outcome: the diffs, or why the comparison could not be made. */
  public record Report(List<Comparison.Diff> diffs, String skippedBecause, Map<String, HostTensor> feeds) {
    public boolean passed() {
      return skippedBecause == null && diffs.stream().allMatch(Comparison.Diff::withinTolerance);
    }

    public boolean identical() {
      return skippedBecause == null && diffs.stream().allMatch(Comparison.Diff::identical);
    }
  }

  /**
   * Compares b against reference a on the given inputs (by a's keys), generating seeded random
   * values for the inputs not given. When a itself fails on generated inputs, or does not give
   * the same outputs twice (a random op such as dropout), the report says so instead of failing.
   */
  public static Report run(ModelRunner a, ModelRunner b, Map<String, HostTensor> given,
      Map<String, long[]> shapes, long seed, double rtol, double atol) {
    Matching m = Matching.of(a, b);
    Map<String, HostTensor> fa = new LinkedHashMap<>();
    boolean generated = false;
    Map<String, HostTensor> random = null;
    for (TensorSpec in : a.inputs()) {
      HostTensor t = given == null ? null : given.get(in.key());
      if (t == null) {
        if (random == null) random = a.randomInputs(shapes, seed);
        t = random.get(in.key());
        generated = true;
      }
      fa.put(in.key(), t);
    }
    Map<String, HostTensor> ra;
    try {
      ra = a.run(fa);
    } catch (TftrtException e) {
      if (!generated) throw e;
      return new Report(List.of(), "the original model does not run on generated inputs ("
          + e.getMessage() + "); give real ones with --input", fa);
    }
    Map<String, HostTensor> fb = new LinkedHashMap<>();
    for (Map.Entry<String, HostTensor> e : fa.entrySet()) {
      String key = m.inputs().get(e.getKey());
      if (key != null) fb.put(key, e.getValue());
    }
    Map<String, HostTensor> rb = b.run(fb);
    List<String> names = new ArrayList<>();
    Map<String, HostTensor> rbByA = new LinkedHashMap<>();
    for (TensorSpec o : a.outputs()) {
      names.add(o.key());
      rbByA.put(o.key(), rb.get(m.outputs().get(o.key())));
    }
    List<Comparison.Diff> diffs = new ArrayList<>();
    for (Comparison.Diff d : Comparison.compare(names, rbByA, ra, rtol, atol)) {
      // An output the reference gives only NaN or Inf for checks nothing, even where both agree.
      long n = ra.get(d.name()).numElements();
      boolean allNonFinite = n > 0 && d.referenceNaN() + d.referenceInf() == n;
      diffs.add(d.withinTolerance() && allNonFinite
          ? d.failed("the reference gives only " + d.referenceNonFiniteKind() + " values") : d);
    }
    if (diffs.stream().allMatch(Comparison.Diff::withinTolerance)) return new Report(diffs, null, fa);
    // Only on failure: is the reference itself deterministic on these inputs?
    Map<String, HostTensor> again = a.run(fa);
    for (String n : names) {
      if (!again.get(n).contentEquals(ra.get(n))) {
        return new Report(diffs, "the original model gives different outputs on two runs with the same input ('"
            + n + "' changed), so it has random ops on this path: feed inputs that make it deterministic "
            + "(such as a dropout keep probability of 1.0) with --input", fa);
      }
    }
    return new Report(diffs, null, fa);
  }
}
