package dev.tftrt.runtime;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorNames;
import dev.tftrt.model.TensorSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pairs the inputs and outputs of two models: by signature name, else by tensor name, else (a
 * single input or output on each side) by position. Maps are from a's keys to b's keys; an input
 * of a that b lacks (bound to a constant in b with --set) has no entry and is fed to a only.
 */
public record Matching(Map<String, String> inputs, Map<String, String> outputs) {

  public static Matching of(ModelRunner a, ModelRunner b) {
    return new Matching(pair(a.inputs(), b.inputs(), "input", a, b),
        pair(a.outputs(), b.outputs(), "output", a, b));
  }

  private static Map<String, String> pair(List<TensorSpec> as, List<TensorSpec> bs, String what,
      ModelRunner a, ModelRunner b) {
    Map<String, String> r = new LinkedHashMap<>();
    for (TensorSpec x : as) {
      String match = null;
      for (TensorSpec y : bs) if (y.key().equals(x.key())) match = y.key();
      if (match == null) {
        for (TensorSpec y : bs) {
          if (TensorNames.canonical(y.tensor()).equals(TensorNames.canonical(x.tensor()))) match = y.key();
        }
      }
      if (match == null && as.size() == 1 && bs.size() == 1) match = bs.get(0).key();
      // An input b does not take was bound to a constant in b (--set keep_prob=1.0): only a is fed it.
      if (match == null && what.equals("input") && bs.size() < as.size()) continue;
      if (match == null) {
        throw new TftrtException(b.describe() + " has no " + what + " matching '" + x.key() + "' of "
            + a.describe() + " by name or tensor.");
      }
      r.put(x.key(), match);
    }
    if (what.equals("input") && bs.size() > r.size()) {
      for (TensorSpec y : bs) {
        if (!r.containsValue(y.key())) {
          throw new TftrtException(b.describe() + " takes input '" + y.key() + "', which " + a.describe() + " does not have.");
        }
      }
    }
    return r;
  }
}
