package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import java.util.Optional;

/** Einsum, passed through: the equation syntax is the same in TensorFlow and ONNX. */
public final class Einsum extends BaseConverter {
  public Einsum() {
    register(Signature.builder().tensors("inputs").types("T", Signature.FLOATS).build(), "Einsum");
  }

  @Override
  protected Optional<String> check(NodeView n) {
    String eq = n.attrString("equation", "");
    if (!eq.matches("[a-zA-Z.,\\->\\s]+")) return reject("its equation '" + eq + "' is not supported.");
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    OnnxEmitter.Node e = out.node("Einsum").attr("equation", n.attrString("equation", "").replace(" ", ""));
    for (int i = 0; i < n.numInputs(); i++) e.in(out.input(n, i));
    e.out(out.output(n, 0)).emit();
  }
}
