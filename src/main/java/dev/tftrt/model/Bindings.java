package dev.tftrt.model;

import dev.tftrt.TftrtException;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.Npy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.proto.DataType;

/**
 * --set NAME=VALUE: an input (a training-time keep_prob, is_training or phase placeholder, say)
 * bound to a constant. The model stops taking it as an input; running feeds the value, and
 * freezing writes it as a Const, so what depends only on it folds away before conversion.
 */
final class Bindings {
  private Bindings() {}

  /** The inputs left, and the bound tensors ("node:0") with their values. */
  record Result(List<TensorSpec> inputs, Map<String, HostTensor> bound) {}

  static Result apply(Graph graph, List<TensorSpec> inputs, Map<String, String> bindings, String what) {
    if (bindings.isEmpty()) return new Result(inputs, Map.of());
    List<TensorSpec> left = new ArrayList<>(inputs);
    Map<String, HostTensor> bound = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : bindings.entrySet()) {
      String name = e.getKey();
      TensorSpec spec = null;
      for (TensorSpec s : left) {
        if (s.key().equals(name) || s.tensor().equals(TensorNames.canonical(name))) spec = s;
      }
      String tensor = spec != null ? spec.tensor() : TensorNames.canonical(name);
      GraphOperation op = graph.operation(TensorNames.node(tensor));
      if (op == null) {
        throw new TftrtException("--set names '" + name + "', which is neither an input nor a node of " + what + ".");
      }
      if (!op.type().equals("Placeholder") && !op.type().equals("PlaceholderWithDefault")) {
        throw new TftrtException("--set names '" + name + "', a " + op.type() + " node of " + what
            + "; only inputs and placeholders can be bound to a value.");
      }
      if (spec == null) spec = TfModel.specOf(graph, tensor, name);
      bound.put(spec.tensor(), value(spec, e.getValue()));
      left.remove(spec);
    }
    return new Result(left, bound);
  }

  /** A number or true/false (a scalar of the input's dtype, or its one-element shape), text for a string, or a .npy file. */
  private static HostTensor value(TensorSpec spec, String text) {
    String where = "--set " + spec.key() + "=" + text;
    HostTensor v;
    if (text.endsWith(".npy")) {
      v = Npy.read(java.nio.file.Path.of(text));
      if (v.dtype() != spec.dtype()) {
        throw new TftrtException(where + ": the input takes " + DTypes.name(spec.dtype()) + ", but the file holds "
            + DTypes.name(v.dtype()) + ".");
      }
    } else if (spec.dtype() == DataType.DT_STRING) {
      v = HostTensor.ofStrings(new long[0], new byte[][] {text.getBytes(StandardCharsets.UTF_8)});
    } else {
      if (!DTypes.isSupported(spec.dtype())) {
        throw new TftrtException(where + ": the input's dtype " + DTypes.name(spec.dtype()) + " cannot be given as a number.");
      }
      double d;
      try {
        d = text.equalsIgnoreCase("true") ? 1 : text.equalsIgnoreCase("false") ? 0 : Double.parseDouble(text);
      } catch (NumberFormatException e) {
        throw new TftrtException(where + " is neither a number, true/false, nor a .npy file.");
      }
      ByteBuffer b = ByteBuffer.allocate(DTypes.byteSize(spec.dtype())).order(ByteOrder.LITTLE_ENDIAN);
      HostTensor.putDouble(b, 0, spec.dtype(), d);
      long[] s = spec.shape() != null && Arrays.stream(spec.shape()).allMatch(x -> x == 1) ? spec.shape() : new long[0];
      v = HostTensor.of(spec.dtype(), s, b);
    }
    if (!fits(spec.shape(), v.shape())) {
      throw new TftrtException(where + ": the input takes shape " + Arrays.toString(spec.shape()).replace("-1", "?")
          + ", but the value has shape " + Arrays.toString(v.shape()) + ".");
    }
    return v;
  }

  private static boolean fits(long[] spec, long[] actual) {
    if (spec == null) return true;
    if (spec.length != actual.length) return false;
    for (int i = 0; i < spec.length; i++) if (spec[i] >= 0 && spec[i] != actual[i]) return false;
    return true;
  }
}
