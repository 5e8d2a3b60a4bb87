package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;

/** ClipByValue: Clip for scalar bounds, else Max then Min (bounds may broadcast in TF). */
public final class ClipByValue extends BaseConverter {
  public ClipByValue() {
    register(Signature.builder().tensor("t").tensor("clip_value_min").tensor("clip_value_max")
        .types("T", Signature.NUMBERS).build(), "ClipByValue");
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    String x = out.input(n, 0);
    String lo = out.input(n, 1);
    String hi = out.input(n, 2);
    String y = out.output(n, 0);
    if (n.inputRank(1) == 0 && n.inputRank(2) == 0) {
      out.node("Clip").in(x, lo, hi).out(y).emit();
    } else {
      out.node("Min").in(out.op("Max", x, lo), hi).out(y).emit();
    }
  }
}
