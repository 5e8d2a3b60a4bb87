package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;

/** Softmax and LogSoftmax over the last axis (ONNX opset 13 semantics: one axis). */
public final class Softmax extends BaseConverter {
  public Softmax() {
    register(Signature.builder().tensor("logits").types("T", Signature.FLOATS).build(), "Softmax", "LogSoftmax");
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    out.node(n.op()).in(out.input(n, 0)).attr("axis", -1L).out(out.output(n, 0)).emit();
  }
}
