package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;

/** Cumsum over a constant axis, with exclusive and reverse. */
public final class Cumsum extends BaseConverter {
  public Cumsum() {
    register(Signature.builder().tensor("x").weight("axis").types("T", Signature.NUMBERS).build(), "Cumsum");
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    out.node("CumSum").in(out.input(n, 0), out.int64s("axis", n.constantLongs(1)[0]))
        .attr("exclusive", n.attrBool("exclusive", false) ? 1L : 0L)
        .attr("reverse", n.attrBool("reverse", false) ? 1L : 0L)
        .out(out.output(n, 0)).emit();
  }
}
