package dev.tftrt.convert.ops;

import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.tensor.HostTensor;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * A converter's weight input: a float constant, or 8-bit constants behind a Dequantize. Either
 * is re-laid out once at conversion time; a dequantized one stays 8-bit (its scale is per
 * tensor, so a transpose or reshape of the levels is one of the values).
 */
final class Weights {
  private Weights() {}

  /** Input i's values as laid out in TensorFlow (8-bit levels for a dequantized weight), or empty. */
  static Optional<HostTensor> values(NodeView n, int i) {
    Optional<HostTensor> c = n.constant(i);
    return c.isPresent() ? c : Dequantize.of(n, i).map(Dequantize.Levels::q);
  }

  /** Why input i is not a weight this converts (a Dequantize that does not); empty when it is. */
  static Optional<String> check(NodeView n, int i) {
    if (n.isConstant(i)) return Optional.empty();
    return Dequantize.checkWeight(n, i);
  }

  /** Emits input i laid out by {@code layout} and returns its (float) ONNX value. */
  static String emit(OnnxEmitter out, NodeView n, int i, String hint, UnaryOperator<HostTensor> layout) {
    Optional<HostTensor> c = n.constant(i);
    if (c.isPresent()) return out.constant(hint, layout.apply(c.get()));
    Dequantize.Levels p = Dequantize.of(n, i).orElseThrow(
        () -> new IllegalStateException("input " + i + " of " + n.name() + " is no weight (validate first)"));
    return Dequantize.emit(out, hint, p, layout.apply(p.q()), null);
  }
}
