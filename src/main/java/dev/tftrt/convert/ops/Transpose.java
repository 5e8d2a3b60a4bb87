package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;

/** Transpose with a constant permutation. */
public final class Transpose extends BaseConverter {
  public Transpose() {
    register(Signature.builder().tensor("x").weight("perm").types("T", Signature.ANY).build(), "Transpose");
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    out.node("Transpose").in(out.input(n, 0)).attr("perm", n.constantLongs(1)).out(out.output(n, 0)).emit();
  }
}
