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
   * Compares b against reference a. feeds are a's inputs by a's keys; null means seeded random
   * ones. When a itself fails on generated inputs, the report says so instead of failing.
   */
  public static Report run(ModelRunner a, ModelRunner b, Map<String, HostTensor> feeds,
      Map<String, long[]> shapes, long seed, double rtol, double atol) {
    Matching m = Matching.of(a, b);
    boolean generated = feeds == null;
    Map<String, HostTensor> fa = generated ? Feeds.random(a.inputs(), shapes, seed) : feeds;
    Map<String, HostTensor> ra;
    try {
      ra = a.run(fa);
    } catch (TftrtException e) {
      if (!generated) throw e;
      return new Report(List.of(), "the original model does not run on generated inputs ("
          + e.getMessage() + "); give real ones with --input", fa);
    }
    Map<String, HostTensor> fb = new LinkedHashMap<>();
    for (Map.Entry<String, HostTensor> e : fa.entrySet()) fb.put(m.inputs().get(e.getKey()), e.getValue());
    Map<String, HostTensor> rb = b.run(fb);
    List<String> names = new ArrayList<>();
    Map<String, HostTensor> rbByA = new LinkedHashMap<>();
    for (TensorSpec o : a.outputs()) {
      names.add(o.key());
      rbByA.put(o.key(), rb.get(m.outputs().get(o.key())));
    }
    return new Report(Comparison.compare(names, rbByA, ra, rtol, atol), null, fa);
  }
}
