package dev.tftrt.convert.passes.push;

import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;
import java.util.Set;

/** Pad (opset 11+, pads as a constant input): begins and ends permuted like the data. */
final class PadPush implements PushRule {
  @Override
  public Set<String> ops() {
    return Set.of("Pad");
  }

  @Override
  public Absorb absorb(PushSite s, int[] p) {
    NodeProto.Builder c = s.node();
    int rank = p.length;
    if (c.getInputCount() < 2 || c.getInputCount() > 3) return null;
    if (c.getInputCount() == 3 && !c.getInput(2).isEmpty() && !s.isScalarConst(c.getInput(2))) return null;
    if (Axes.attr(c, "pads") != null) return null;
    TensorProto pads = s.constant(c.getInput(1));
    long[] v = pads == null ? null : Tensors.ints(pads);
    if (v == null || v.length != 2 * rank) return null;
    long[] nv = new long[2 * rank];
    for (int i = 0; i < rank; i++) {
      nv[p[i]] = v[i];
      nv[rank + p[i]] = v[rank + i];
    }
    String name = s.newInts(c.getInput(1), nv, TensorProto.DataType.INT64_VALUE);
    return new Absorb(s, p).carry(0).edit(() -> s.setInput(1, name));
  }
}
