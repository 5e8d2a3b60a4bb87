package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import java.util.Optional;

/**
 * SelectV2 (broadcasting Where) and Select, whose vector condition picks whole rows of
 * higher-rank operands and so is unsqueezed to broadcast along the first axis.
 */
public final class Select extends BaseConverter {
  public Select() {
    register(Signature.builder().tensor("condition").tensor("t").tensor("e").types("T", Signature.ANY).build(),
        "Select", "SelectV2");
  }

  @Override
  protected Optional<String> check(NodeView n) {
    if (n.op().equals("Select") && (n.inputRank(0) < 0 || n.inputRank(1) < 0)) {
      return reject("Select needs the ranks of its condition and operands, and one is unknown.");
    }
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    String c = out.input(n, 0);
    if (n.op().equals("Select") && n.inputRank(0) == 1 && n.inputRank(1) > 1) {
      long[] axes = new long[n.inputRank(1) - 1];
      for (int i = 0; i < axes.length; i++) axes[i] = i + 1;
      c = out.op("Unsqueeze", c, out.int64s("axes", axes));
    }
    out.node("Where").in(c, out.input(n, 1), out.input(n, 2)).out(out.output(n, 0)).emit();
  }
}
