package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import java.util.Optional;

/**
 * Const and the pass-through ops. Const emits nothing itself (constants become initializers
 * where they are read as values); Identity and friends alias their input, costing no node.
 */
public final class Identity extends BaseConverter {
  public Identity() {
    register(Signature.builder().build(), "Const");
    register(Signature.builder().tensor("input").build(), "Identity", "Snapshot", "StopGradient",
        "PreventGradient", "CheckNumerics");
    register(Signature.builder().tensors("input").build(), "IdentityN");
  }

  @Override
  protected Optional<String> check(NodeView node) {
    if (node.op().equals("Const")) {
      if (!node.graph().constant(node.name() + ":0").isPresent()) {
        return reject("its value has a dtype that cannot be written to ONNX.");
      }
    }
    return ok();
  }

  @Override
  public void convert(NodeView node, OnnxEmitter out) {
    if (node.op().equals("Const")) return;
    for (int i = 0; i < node.numInputs(); i++) out.alias(node, i, out.input(node, i));
  }
}
