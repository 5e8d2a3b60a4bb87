package dev.tftrt.convert.passes.push;

import dev.tftrt.convert.onnx.AttributeProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;

/**
 * One node as the pass holds it: its builder, the graph's constants, and input edits that keep
 * the pass's reader index up to date (so rules never touch that index themselves).
 */
public interface PushSite {
  NodeProto.Builder node();

  /** The initializer named v, or null when v is computed (or a graph input). */
  TensorProto constant(String v);

  /** Adds t as a new initializer under a fresh name made from hint; returns that name. */
  String addConstant(String hint, TensorProto t);

  void setInput(int i, String v);

  void addInput(String v);

  default boolean isScalarConst(String v) {
    TensorProto k = constant(v);
    return k != null && Tensors.isScalarShape(k);
  }

  /** A new 1-D initializer of int64 (or int32, when dtype says so) values. */
  default String newInts(String hint, long[] v, int dtype) {
    return addConstant(hint, Tensors.ints1d(v, dtype));
  }

  /** A constant axes input (index 1) or axes attribute; null when absent or computed. */
  default long[] axes() {
    NodeProto.Builder b = node();
    if (b.getInputCount() >= 2 && !b.getInput(1).isEmpty()) {
      TensorProto a = constant(b.getInput(1));
      return a == null ? null : Tensors.ints(a);
    }
    AttributeProto a = Axes.attr(b, "axes");
    return a == null ? null : a.getIntsList().stream().mapToLong(Long::longValue).toArray();
  }

  /**
   * Sets what {@link #axes} read to new values; null when there are none to set. A new axes
   * constant is made now (its name is fixed before the edit runs).
   */
  default Runnable axesEdit(long[] axes) {
    NodeProto.Builder b = node();
    if (b.getInputCount() >= 2 && !b.getInput(1).isEmpty()) {
      TensorProto old = constant(b.getInput(1));
      if (old == null) return null;
      String name = newInts(b.getInput(1), axes, old.getDataType());
      return () -> setInput(1, name);
    }
    if (Axes.attr(b, "axes") == null) return null;
    return () -> {
      for (int i = 0; i < b.getAttributeCount(); i++) {
        if (b.getAttribute(i).getName().equals("axes")) {
          AttributeProto.Builder ab = b.getAttribute(i).toBuilder().clearInts();
          for (long v : axes) ab.addInts(v);
          b.setAttribute(i, ab);
        }
      }
    };
  }
}
