package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;
import org.tensorflow.proto.DataType;

/**
 * Dequantize of constant quint8/qint8 weights (what graph_transforms' quantize_weights writes),
 * kept 8-bit: an 8-bit initializer, a DequantizeLinear and, where TensorFlow adds an offset, an
 * Add. Per tensor only (axis -1). TensorFlow's kernel computes, in float32:
 *
 * <ul>
 *   <li>MIN_COMBINED: (q + h) * s + min, s = (max - min) / 255, h = 128 for qint8 else 0;
 *   <li>MIN_FIRST: q * s + m, m = round(min / s) * s (+ 128 * s for qint8: the kernel's
 *       (q - lowest) * s + m, rounded as it computes it, measured bit for bit), s = float((max -
 *       min) / 255.0) (the division in double), round half away from zero; min where max == min;
 *   <li>SCALED: q * s, s = max / 255 (quint8) or max(min / -128 (-127 narrow), max / 127).
 * </ul>
 * DequantizeLinear is (q - zero point) * s in float32, so zero point -h and the same s give
 * TensorFlow's values bit for bit, and the offset is the same float Add. A zero scale (an
 * empty range) is not a valid DequantizeLinear: that node becomes TensorFlow's exact float
 * values instead. Conv/matmul converters read weights through {@link #of}, so a filter is
 * re-laid out in 8 bits at conversion time (the scale is per tensor, so layout commutes).
 */
public final class Dequantize extends BaseConverter {
  public Dequantize() {
    // all tensors, so that a computed input gets its own reason before the ranges' (checked too)
    register(Signature.builder().tensor("input").tensor("min_range").tensor("max_range")
        .types("T", DataType.DT_QUINT8, DataType.DT_QINT8).build(), "Dequantize");
  }

  /**
   * TensorFlow's arithmetic as ONNX parameters: value = (q - zeroPoint) * scale (+ offset when
   * {@code add}). {@code q} is the 8-bit constant as uint8/int8.
   */
  public record Levels(HostTensor q, float scale, int zeroPoint, float offset, boolean add) {
    /** Whether DequantizeLinear expresses it: a zero or non-finite scale it does not. */
    boolean linear() {
      return scale > 0 && Float.isFinite(scale);
    }

    /** Whether TensorRT fuses it as an INT8 weight: int8, zero point 0, no offset. */
    public boolean symmetricInt8() {
      return q.dtype() == DataType.DT_INT8 && zeroPoint == 0 && !add;
    }

    /** The float32 values TensorFlow computes for an 8-bit tensor laid out like {@code t}. */
    HostTensor floats(HostTensor t) {
      int n = (int) t.numElements();
      ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < n; i++) {
        float v = (float) ((int) t.getDouble(i) - zeroPoint) * scale; // Java float math is IEEE, as TF's
        b.putFloat(4 * i, add ? v + offset : v);
      }
      return HostTensor.of(DataType.DT_FLOAT, t.shape(), b);
    }
  }

  @Override
  protected Optional<String> check(NodeView n) {
    if (!n.isConstant(0)) {
      return reject("its input " + n.input(0) + " is computed (by TensorFlow's 8-bit ops, which stay in TensorFlow);"
          + " only dequantized constant weights convert.");
    }
    return ranges(n);
  }

  /** Why the mode, axis, dtype or ranges do not convert (the input being constant aside). */
  static Optional<String> ranges(NodeView n) {
    if (!n.isConstant(1) || !n.isConstant(2)) return reject("its min_range and max_range must be constants.");
    String mode = n.attrString("mode", "MIN_COMBINED");
    if (!mode.equals("MIN_COMBINED") && !mode.equals("SCALED") && !mode.equals("MIN_FIRST")) {
      return reject("mode " + mode + " is not supported; MIN_COMBINED, SCALED and MIN_FIRST are.");
    }
    if (n.attrInt("axis", -1) != -1) return reject("per-channel dequantization (axis " + n.attrInt("axis", -1) + ") is not supported.");
    DataType dt = n.attrType("dtype");
    if (dt != null && dt != DataType.DT_FLOAT) return reject("dtype must be float32.");
    if (n.constant(1).orElseThrow().numElements() != 1 || n.constant(2).orElseThrow().numElements() != 1) {
      return reject("min_range and max_range must be scalars.");
    }
    if (!(scalar(n, 1) <= scalar(n, 2))) return reject("min_range is above max_range.");
    return ok();
  }

  /**
   * The dequantized constant weight a converter reads as its input i: the Dequantize producing
   * it, when that converts; empty for anything else (a plain constant included).
   */
  static Optional<Levels> of(NodeView n, int i) {
    Optional<NodeView> dq = n.dequantized(i);
    if (dq.isEmpty() || dq.get().attrType("T") == null || !dq.get().isConstant(0) || ranges(dq.get()).isPresent()) {
      return Optional.empty();
    }
    return Optional.of(levels(dq.get()));
  }

  /** Why input i, a Dequantize that the signature let through, does not convert; empty if it does. */
  static Optional<String> checkWeight(NodeView n, int i) {
    Optional<NodeView> dq = n.dequantized(i);
    if (dq.isEmpty()) return ok();
    Optional<String> why = new Dequantize().validate(dq.get());
    return why.map(w -> "its weight " + n.input(i) + " is a Dequantize that does not convert: " + w);
  }

  private static float scalar(NodeView n, int i) {
    return (float) n.constant(i).orElseThrow().getDouble(0);
  }

  static Levels levels(NodeView n) {
    boolean signed = n.attrType("T") == DataType.DT_QINT8;
    HostTensor q = n.constant(0).orElseThrow();
    float min = scalar(n, 1);
    float max = scalar(n, 2);
    switch (n.attrString("mode", "MIN_COMBINED")) {
      case "MIN_FIRST": {
        if (max == min) return new Levels(q, 0f, signed ? -128 : 0, min, true);
        float scale = (float) ((double) (max - min) / 255.0);
        float r = min / scale;
        float rounded = (float) (Math.signum(r) * Math.floor(Math.abs((double) r) + 0.5)) * scale; // std::round
        // qint8: TensorFlow's values are q * s + (rounded + 128 * s), not (q + 128) * s + rounded
        return new Levels(q, scale, 0, signed ? rounded + 128f * scale : rounded, true);
      }
      case "MIN_COMBINED":
        return new Levels(q, (max - min) / 255f, signed ? -128 : 0, min, min != 0f);
      default: { // SCALED
        float scale = !signed ? max / 255f
            : Math.max(min / (n.attrBool("narrow_range", false) ? -127f : -128f), max / 127f);
        return new Levels(q, scale, 0, 0f, false);
      }
    }
  }

  /**
   * Emits the dequantized weight with its 8-bit values laid out as {@code laidOut} (the Levels'
   * q, transposed or reshaped) and returns the float value's name (y, when not null).
   */
  static String emit(OnnxEmitter out, String name, Levels p, HostTensor laidOut, String y) {
    return emit(out, name, p, laidOut, y, null);
  }

  /** As above; {@code levels} names the 8-bit values when they are already in the model. */
  private static String emit(OnnxEmitter out, String name, Levels p, HostTensor laidOut, String y, String levels) {
    if (!p.linear()) {
      String c = out.constant(name + "/dequantized", p.floats(laidOut));
      if (y == null) return c;
      return out.node("Identity").in(c).out(y).emit();
    }
    String q = levels != null ? levels : out.constant(name + "/quantized", laidOut);
    String s = out.scalar(name + "/scale", DataType.DT_FLOAT, p.scale());
    String z = out.constant(name + "/zero_point", HostTensor.scalarOf(laidOut.dtype(), p.zeroPoint()));
    if (!p.add()) {
      OnnxEmitter.Node dq = out.node("DequantizeLinear").in(q, s, z);
      return y == null ? dq.emit() : dq.out(y).emit();
    }
    String d = out.node("DequantizeLinear").in(q, s, z).emit();
    OnnxEmitter.Node add = out.node("Add").in(d, out.scalar(name + "/offset", DataType.DT_FLOAT, p.offset()));
    return y == null ? add.emit() : add.out(y).emit();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    Levels p = levels(n);
    // the graph's own constant: one initializer however many Dequantize nodes read it
    emit(out, n.name(), p, p.q(), out.output(n, 0), p.linear() ? out.input(n, 0) : null);
  }
}
