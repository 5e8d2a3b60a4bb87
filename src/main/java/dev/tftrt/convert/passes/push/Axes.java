package dev.tftrt.convert.passes.push;

import dev.tftrt.convert.onnx.AttributeProto;
import dev.tftrt.convert.onnx.NodeProto;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Axis arithmetic and attribute access shared by the push rules and the pass. */
public final class Axes {
  private Axes() {}

  /** An axis in [-rank, rank) made non-negative, or -1 when out of range. */
  public static int normAxis(long a, int rank) {
    long n = a < 0 ? a + rank : a;
    return n < 0 || n >= rank ? -1 : (int) n;
  }

  /**
   * y = Transpose(x, p) loses the axes marked removed (in y's numbering, as a reduction without
   * keepdims or a Squeeze does): the perm that takes what is left of x to what is left of y.
   */
  public static int[] remainingPerm(int[] p, boolean[] removed) {
    List<Integer> kept = new ArrayList<>();
    for (int i = 0; i < p.length; i++) if (!removed[i]) kept.add(p[i]);
    List<Integer> sorted = new ArrayList<>(kept);
    Collections.sort(sorted);
    int[] r = new int[kept.size()];
    for (int i = 0; i < r.length; i++) r[i] = sorted.indexOf(kept.get(i));
    return r;
  }

  public static AttributeProto attr(NodeProto.Builder b, String name) {
    for (AttributeProto a : b.getAttributeList()) if (a.getName().equals(name)) return a;
    return null;
  }

  public static void putIntAttr(NodeProto.Builder b, String name, long v) {
    for (int i = 0; i < b.getAttributeCount(); i++) {
      if (b.getAttribute(i).getName().equals(name)) {
        b.setAttribute(i, b.getAttribute(i).toBuilder().setI(v));
        return;
      }
    }
    b.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v));
  }
}
