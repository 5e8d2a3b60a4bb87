package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import java.util.ArrayList;
import java.util.List;

/** ConcatV2, Concat and Pack (stack = unsqueeze each, then concatenate). */
public final class Concat extends BaseConverter {
  public Concat() {
    register(Signature.builder().tensors("values").weight("axis").types("T", Signature.ANY).build(), "ConcatV2");
    register(Signature.builder().weight("concat_dim").tensors("values").types("T", Signature.ANY).build(), "Concat");
    register(Signature.builder().tensors("values").types("T", Signature.ANY).build(), "Pack");
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    List<String> ins = new ArrayList<>();
    long axis;
    switch (n.op()) {
      case "ConcatV2":
        for (int i = 0; i < n.numInputs() - 1; i++) ins.add(out.input(n, i));
        axis = n.constantLongs(n.numInputs() - 1)[0];
        break;
      case "Concat":
        for (int i = 1; i < n.numInputs(); i++) ins.add(out.input(n, i));
        axis = n.constantLongs(0)[0];
        break;
      default: {
        axis = n.attrInt("axis", 0);
        String axes = out.int64s("axes", axis);
        for (int i = 0; i < n.numInputs(); i++) ins.add(out.op("Unsqueeze", out.input(n, i), axes));
      }
    }
    out.node("Concat").in(ins).attr("axis", axis).out(out.output(n, 0)).emit();
  }
}
