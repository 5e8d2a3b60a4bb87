package dev.tftrt.convert.passes.push;

import dev.tftrt.convert.onnx.AttributeProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;
import java.util.Set;

/**
 * Resize: roi, scales and sizes hold one value (roi: two) per axis, permuted like the data.
 * Linear and cubic need constant scales whose resized axes stay in a layout runtimes take.
 */
final class ResizePush implements PushRule {
  @Override
  public Set<String> ops() {
    return Set.of("Resize");
  }

  @Override
  public Absorb absorb(PushSite s, int[] p) {
    NodeProto.Builder c = s.node();
    int rank = p.length;
    if (Axes.attr(c, "axes") != null) return null;
    AttributeProto m = Axes.attr(c, "mode");
    String mode = m == null ? "nearest" : m.getS().toStringUtf8();
    Absorb r = new Absorb(s, p).carry(0);
    float[] scales = null;
    for (int i = 1; i < c.getInputCount() && i <= 3; i++) {
      String in = c.getInput(i);
      if (in.isEmpty()) continue;
      TensorProto k = s.constant(in);
      if (k == null) return null;
      long count = Tensors.numElements(k);
      if (count == 0) continue;
      int halves = i == 1 ? 2 : 1;
      if (k.getDimsCount() != 1 || count != (long) halves * rank || !k.hasRawData()) return null;
      if (i == 2) {
        if (k.getDataType() != TensorProto.DataType.FLOAT_VALUE) return null;
        scales = Tensors.floats(k);
      }
      String name = s.addConstant(k.getName(), Tensors.permutedVector(k, p, halves));
      int at = i;
      r.edit(() -> s.setInput(at, name));
    }
    if (!mode.equals("nearest")) {
      // With sizes, which axes change is not known here.
      if (scales == null) return null;
      boolean[] changed = new boolean[rank];
      for (int i = 0; i < rank; i++) if (scales[i] != 1f) changed[p[i]] = true;
      if (!interpolatable(changed)) return null;
    }
    return r;
  }

  /** Linear and cubic kernels take only some layouts (ORT: the two outer axes kept, or NHWC). */
  private static boolean interpolatable(boolean[] changed) {
    int r = changed.length;
    boolean outerKept = true;
    for (int i = 0; i < r - 2; i++) if (changed[i]) outerKept = false;
    if (outerKept) return true;
    return r == 4 && !changed[0] && !changed[3];
  }
}
