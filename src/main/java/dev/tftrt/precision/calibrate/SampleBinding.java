package dev.tftrt.precision.calibrate;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Matches a sample's arrays to a model's inputs, refusing in one sentence what does not fit. */
final class SampleBinding {
  private SampleBinding() {}

  static Map<String, HostTensor> bind(Map<String, HostTensor> sample, List<TensorSpec> inputs, String what) {
    Map<String, HostTensor> out = new LinkedHashMap<>();
    for (TensorSpec in : inputs) {
      HostTensor t = find(sample, in);
      if (t == null) {
        throw new TftrtException(what + " has no array for input " + in.key() + " (it holds "
            + (sample.isEmpty() ? "none" : String.join(", ", sample.keySet())) + ").");
      }
      if (t.dtype() != in.dtype()) {
        throw new TftrtException(what + " gives input " + in.key() + " as " + DTypes.name(t.dtype())
            + ", but the model takes " + DTypes.name(in.dtype()) + ".");
      }
      long[] want = in.shape();
      long[] got = t.shape();
      if (want != null && !fits(got, want)) {
        throw new TftrtException(what + " gives input " + in.key() + " the shape " + Arrays.toString(got)
            + ", but the model takes " + Arrays.toString(want).replace("-1", "?")
            + " (the first axis is the batch).");
      }
      out.put(in.key(), t);
    }
    for (String k : sample.keySet()) {
      if (inputs.stream().noneMatch(in -> matches(k, in))) {
        throw new TftrtException(what + " has an array '" + k + "' that is no input of the model (inputs: "
            + String.join(", ", inputs.stream().map(TensorSpec::key).toList()) + ").");
      }
    }
    return out;
  }

  /** Same rank, and every dimension but the batch equal where the model fixes it. */
  private static boolean fits(long[] got, long[] want) {
    if (got.length != want.length || got.length == 0) return false;
    for (int i = 1; i < got.length; i++) {
      if (want[i] >= 0 && want[i] != got[i]) return false;
    }
    return true;
  }

  private static HostTensor find(Map<String, HostTensor> sample, TensorSpec in) {
    for (Map.Entry<String, HostTensor> e : sample.entrySet()) {
      if (matches(e.getKey(), in)) return e.getValue();
    }
    return null;
  }

  static boolean matches(String name, TensorSpec in) {
    return name.equals(in.key()) || name.equals(in.tensor()) || (name + ":0").equals(in.key())
        || (name + ":0").equals(in.tensor());
  }
}
