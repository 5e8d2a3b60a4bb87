package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import java.util.Optional;

/** Split, SplitV and Unpack (split into size-1 pieces, then squeeze). */
public final class Split extends BaseConverter {
  public Split() {
    register(Signature.builder().weight("split_dim").tensor("value").types("T", Signature.ANY).build(), "Split");
    register(Signature.builder().tensor("value").weight("size_splits").weight("split_dim")
        .types("T", Signature.ANY).build(), "SplitV");
    register(Signature.builder().tensor("value").types("T", Signature.ANY).build(), "Unpack");
  }

  @Override
  protected Optional<String> check(NodeView n) {
    if (n.op().equals("SplitV")) {
      long[] sizes = n.constantLongs(1);
      int unknown = 0;
      for (long s : sizes) if (s < 0) unknown++;
      if (unknown > 0) {
        int rank = n.inputRank(0);
        long axis = n.constantLongs(2)[0];
        long dim = rank < 0 ? -1 : n.inputInfo(0).dim(axis(axis, rank));
        if (dim < 0) return reject("a -1 in size_splits needs the size of the split dimension, and it is unknown.");
      }
    }
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    int outputs;
    long axis;
    String x;
    OnnxEmitter.Node split = out.node("Split");
    switch (n.op()) {
      case "Split":
        axis = n.constantLongs(0)[0];
        outputs = (int) n.attrInt("num_split", 1);
        x = out.input(n, 1);
        split.in(x);
        break;
      case "SplitV": {
        axis = n.constantLongs(2)[0];
        long[] sizes = n.constantLongs(1);
        outputs = sizes.length;
        long known = 0;
        for (long s : sizes) if (s >= 0) known += s;
        for (int i = 0; i < sizes.length; i++) {
          if (sizes[i] < 0) sizes[i] = n.inputInfo(0).dim(axis(axis, n.inputRank(0))) - known;
        }
        x = out.input(n, 0);
        split.in(x, out.int64s("split", sizes));
        break;
      }
      default:
        axis = n.attrInt("axis", 0);
        outputs = (int) n.attrInt("num", 1);
        x = out.input(n, 0);
        split.in(x);
    }
    split.attr("axis", axis);
    if (!n.op().equals("SplitV") && out.opset() >= 18) split.attr("num_outputs", (long) outputs);
    boolean unpack = n.op().equals("Unpack");
    String[] pieces = new String[outputs];
    for (int i = 0; i < outputs; i++) {
      pieces[i] = unpack ? out.unique(n.name() + "/piece") : out.output(n, i);
    }
    split.out(pieces).emit();
    if (unpack) {
      String axes = out.int64s("axes", axis);
      for (int i = 0; i < outputs; i++) out.node("Squeeze").in(pieces[i], axes).out(out.output(n, i)).emit();
    }
  }
}
