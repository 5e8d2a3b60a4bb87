package dev.tftrt.convert.passes.push;

import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;
import java.util.Set;

/**
 * Slice: its axes input remapped through p; implicit axes (0..n-1, n = starts' length) are
 * made explicit so starts/ends/steps keep their order.
 */
final class SlicePush implements PushRule {
  @Override
  public Set<String> ops() {
    return Set.of("Slice");
  }

  @Override
  public Absorb absorb(PushSite s, int[] p) {
    NodeProto.Builder c = s.node();
    int rank = p.length;
    int n = c.getInputCount();
    if (n < 3) return null;
    boolean hasAxes = n >= 4 && !c.getInput(3).isEmpty();
    TensorProto k = s.constant(c.getInput(hasAxes ? 3 : 1));
    long[] v = k == null ? null : Tensors.ints(k);
    if (v == null) return null;
    long[] nAxes = new long[v.length];
    for (int i = 0; i < v.length; i++) {
      int a = Axes.normAxis(hasAxes ? v[i] : i, rank);
      if (a < 0) return null;
      nAxes[i] = p[a];
    }
    String name = s.newInts(c.getInput(hasAxes ? 3 : 1) + "/axes", nAxes, k.getDataType());
    return new Absorb(s, p).carry(0).edit(() -> {
      if (c.getInputCount() >= 4) s.setInput(3, name);
      else s.addInput(name);
    });
  }
}
