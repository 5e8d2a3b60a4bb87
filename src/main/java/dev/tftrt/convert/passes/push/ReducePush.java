package dev.tftrt.convert.passes.push;

import dev.tftrt.convert.onnx.AttributeProto;
import java.util.Set;

/**
 * Reduce ops: the axes (input or attribute) remapped through p; without keepdims the reduced
 * axes are gone and the output's perm is that of the axes left (often the identity).
 */
final class ReducePush implements PushRule {
  @Override
  public Set<String> ops() {
    return Set.of("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
        "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSumExp", "ReduceSumSquare");
  }

  @Override
  public Absorb absorb(PushSite s, int[] p) {
    AttributeProto kd = Axes.attr(s.node(), "keepdims");
    return remapAxes(s, p, kd != null && kd.getI() == 0);
  }

  /**
   * The listed axes remapped through p (an empty or absent list is refused: all axes would do
   * either way, but keep it simple); drops: the axes leave the output.
   */
  static Absorb remapAxes(PushSite s, int[] p, boolean drops) {
    int rank = p.length;
    long[] axes = s.axes();
    if (axes == null || axes.length == 0) return null;
    long[] nAxes = new long[axes.length];
    boolean[] removed = new boolean[rank];
    for (int i = 0; i < axes.length; i++) {
      int a = Axes.normAxis(axes[i], rank);
      if (a < 0) return null;
      nAxes[i] = p[a];
      removed[a] = true;
    }
    Absorb r = new Absorb(s, p).carry(0);
    if (drops) r.outPerm(Axes.remainingPerm(p, removed));
    Runnable e = s.axesEdit(nAxes);
    return e == null ? null : r.edit(e);
  }
}
