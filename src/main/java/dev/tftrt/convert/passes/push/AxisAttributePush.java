package dev.tftrt.convert.passes.push;

import dev.tftrt.convert.onnx.AttributeProto;
import java.util.Map;
import java.util.Set;

/** Ops with one axis attribute, remapped through p: Concat, Softmax/LogSoftmax, ArgMax/ArgMin. */
final class AxisAttributePush implements PushRule {
  /**
   * dflt: the axis when the attribute is absent (null: required); allInputs: every input shares
   * the layout (Concat); keepdims: without it, the axis is gone from the output.
   */
  private record Spec(Long dflt, boolean allInputs, boolean keepdims) {}

  private static final Map<String, Spec> SPECS = Map.of(
      "Concat", new Spec(null, true, false),
      "Softmax", new Spec(-1L, false, false),
      "LogSoftmax", new Spec(-1L, false, false),
      "ArgMax", new Spec(0L, false, true),
      "ArgMin", new Spec(0L, false, true));

  @Override
  public Set<String> ops() {
    return SPECS.keySet();
  }

  @Override
  public Absorb absorb(PushSite s, int[] p) {
    Spec spec = SPECS.get(s.node().getOpType());
    int rank = p.length;
    AttributeProto a = Axes.attr(s.node(), "axis");
    if (a == null && spec.dflt() == null) return null;
    int axis = Axes.normAxis(a == null ? spec.dflt() : a.getI(), rank);
    if (axis < 0) return null;
    Absorb r = new Absorb(s, p);
    if (spec.allInputs()) r.carryAll();
    else r.carry(0);
    if (spec.keepdims()) {
      AttributeProto kd = Axes.attr(s.node(), "keepdims");
      if (kd != null && kd.getI() == 0) {
        boolean[] removed = new boolean[rank];
        removed[axis] = true;
        r.outPerm(Axes.remainingPerm(p, removed));
      }
    }
    return r.edit(() -> Axes.putIntAttr(s.node(), "axis", p[axis]));
  }
}
