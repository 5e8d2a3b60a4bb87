package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import dev.tftrt.tensor.HostTensor;
import java.util.Optional;
import org.tensorflow.proto.DataType;

/**
 * TensorFlow's simulated quantization as explicit ONNX QuantizeLinear/DequantizeLinear pairs
 * (what TensorRT fuses into INT8 kernels), per tensor, 8 bits, with constant ranges:
 *
 * <ul>
 *   <li>FakeQuantWithMinMaxArgs/Vars: TensorFlow first nudges [min, max] so that 0 is exactly
 *       representable: scale = (max - min) / (qmax - qmin), zero point = round(qmin - min /
 *       scale) clamped to [qmin, qmax] (qmin = 1 with narrow_range, else 0; qmax = 255). That is
 *       a uint8 Q/DQ with that scale and zero point; narrow_range adds a Clip to the nudged range.
 *   <li>QuantizeAndDequantizeV2/V3/V4: symmetric (zero point 0) int8 or uint8; the scale is fixed
 *       by whichever of min and max is more constraining, and the other end is widened to match.
 *       The range must be given as constants, or the input itself must be constant.
 * </ul>
 * Values exactly halfway between two levels may round the other way (ONNX rounds half to even,
 * FakeQuant rounds half up); every other value is bit-for-bit the same level.
 */
public final class Quantization extends BaseConverter {
  public Quantization() {
    register(Signature.builder().tensor("inputs").build(), "FakeQuantWithMinMaxArgs");
    register(Signature.builder().tensor("inputs").weight("min").weight("max").build(), "FakeQuantWithMinMaxVars",
        "FakeQuantWithMinMaxVarsPerChannel");
    Signature qdq = Signature.builder().tensor("input").weight("input_min").weight("input_max")
        .types("T", Signature.FLOATS).build();
    register(qdq, "QuantizeAndDequantizeV2", "QuantizeAndDequantizeV4");
    register(Signature.builder().tensor("input").weight("input_min").weight("input_max").weight("num_bits")
        .types("T", Signature.FLOATS).build(), "QuantizeAndDequantizeV3");
  }

  // ---- FakeQuant ----

  /** TensorFlow's nudged range: {scale, zero point, nudged min, nudged max}, in float32. */
  static float[] nudge(float min, float max, boolean narrow) {
    float qmin = narrow ? 1f : 0f;
    float qmax = 255f;
    float scale = (max - min) / (qmax - qmin);
    float zpFromMin = qmin - min / scale;
    float zp;
    if (zpFromMin < qmin) zp = qmin;
    else if (zpFromMin > qmax) zp = qmax;
    else zp = (float) Math.round((double) zpFromMin); // std::round: half away from zero (>= 0 here)
    return new float[] {scale, zp, (qmin - zp) * scale, (qmax - zp) * scale};
  }

  private static float[] fakeQuantRange(NodeView n) {
    if (n.op().equals("FakeQuantWithMinMaxArgs")) return new float[] {n.attrFloat("min", -6f), n.attrFloat("max", 6f)};
    return new float[] {(float) scalar(n, 1), (float) scalar(n, 2)};
  }

  private static double scalar(NodeView n, int i) {
    return n.constant(i).orElseThrow().getDouble(0);
  }

  // ---- QuantizeAndDequantize ----

  /** {scale used by TF (x * scale), inverse scale, clamp min, clamp max}. */
  static double[] qdqParams(float minRange, float maxRange, boolean signed, boolean narrow) {
    float minFixed = signed ? (narrow ? -127f : -128f) : 0f;
    float maxFixed = signed ? 127f : 255f;
    float fromMin = minFixed * minRange > 0 ? minFixed / minRange : Float.MAX_VALUE;
    float fromMax = maxFixed * maxRange > 0 ? maxFixed / maxRange : Float.MAX_VALUE;
    float scale;
    float inverse;
    if (fromMin < fromMax) {
      scale = fromMin;
      inverse = minRange / minFixed;
      maxRange = maxFixed * inverse;
    } else {
      scale = fromMax;
      inverse = maxRange / maxFixed;
      minRange = minFixed * inverse;
    }
    return new double[] {scale, inverse, minRange, maxRange};
  }

  private static float[] qdqRange(NodeView n) {
    if (n.attrBool("range_given", false)) return new float[] {(float) scalar(n, 1), (float) scalar(n, 2)};
    HostTensor x = n.constant(0).orElseThrow();
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (long i = 0; i < x.numElements(); i++) {
      lo = Math.min(lo, x.getDouble(i));
      hi = Math.max(hi, x.getDouble(i));
    }
    return new float[] {(float) lo, (float) hi};
  }

  @Override
  protected Optional<String> check(NodeView n) {
    switch (n.op()) {
      case "FakeQuantWithMinMaxArgs":
      case "FakeQuantWithMinMaxVars": {
        if (n.attrInt("num_bits", 8) != 8) return reject("num_bits is " + n.attrInt("num_bits", 8) + "; only 8 converts to INT8 Q/DQ.");
        float[] r = fakeQuantRange(n);
        if (!(r[0] < r[1])) return reject("min " + r[0] + " is not below max " + r[1] + ".");
        return ok();
      }
      case "FakeQuantWithMinMaxVarsPerChannel": {
        if (n.attrInt("num_bits", 8) != 8) return reject("num_bits is " + n.attrInt("num_bits", 8) + "; only 8 converts to INT8 Q/DQ.");
        HostTensor lo = n.constant(1).orElseThrow();
        HostTensor hi = n.constant(2).orElseThrow();
        TensorInfoView in = new TensorInfoView(n);
        if (lo.rank() != 1 || hi.rank() != 1 || lo.numElements() != hi.numElements()) {
          return reject("min and max must be vectors of one length, one value per channel.");
        }
        if (in.lastDim() >= 0 && in.lastDim() != lo.numElements()) {
          return reject("min and max have " + lo.numElements() + " values, but the input's last axis has " + in.lastDim() + ".");
        }
        if (in.rank() < 1) return reject("its input's rank must be known to quantize along the last axis.");
        for (long i = 0; i < lo.numElements(); i++) {
          if (!(lo.getDouble(i) < hi.getDouble(i))) {
            return reject("channel " + i + ": min " + lo.getDouble(i) + " is not below max " + hi.getDouble(i) + ".");
          }
        }
        return ok();
      }
      default: {
        long bits = n.op().equals("QuantizeAndDequantizeV3") ? n.constantLongs(3)[0] : n.attrInt("num_bits", 8);
        if (bits != 8) return reject("num_bits is " + bits + "; only 8 converts to INT8 Q/DQ.");
        if (n.attrInt("axis", -1) != -1) return reject("per-channel quantization (axis " + n.attrInt("axis", -1) + ") is not supported.");
        if (n.attrBool("range_given", false)) {
          if (n.constant(1).orElseThrow().numElements() != 1 || n.constant(2).orElseThrow().numElements() != 1) {
            return reject("input_min and input_max must be scalars.");
          }
        } else if (!n.isConstant(0)) {
          return reject("range_given is false, so the range is the input's own at run time; only a constant input converts.");
        }
        float[] r = qdqRange(n);
        if (r[0] > r[1]) return reject("input_min is above input_max.");
        double[] p = qdqParams(r[0], r[1], n.attrBool("signed_input", true), n.attrBool("narrow_range", false));
        if (!(p[1] > 0) || Double.isInfinite(p[0])) return reject("the range [" + r[0] + ", " + r[1] + "] holds no non-zero value to scale to.");
        return ok();
      }
    }
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    String y = out.output(n, 0);
    String name = n.name();
    switch (n.op()) {
      case "FakeQuantWithMinMaxArgs":
      case "FakeQuantWithMinMaxVars": {
        float[] r = fakeQuantRange(n);
        boolean narrow = n.attrBool("narrow_range", false);
        float[] p = nudge(r[0], r[1], narrow);
        String x = out.input(n, 0);
        DataType t = DataType.DT_FLOAT;
        if (narrow) x = out.op("Clip", x, out.scalar(name + "/nudged_min", t, p[2]), out.scalar(name + "/nudged_max", t, p[3]));
        qdq(out, name, x, p[0], p[1], y);
        break;
      }
      case "FakeQuantWithMinMaxVarsPerChannel":
        perChannel(n, out, y);
        break;
      default: {
        float[] r = qdqRange(n);
        boolean signed = n.attrBool("signed_input", true);
        boolean narrow = n.attrBool("narrow_range", false);
        double[] p = qdqParams(r[0], r[1], signed, narrow);
        String x = out.input(n, 0);
        DataType t = n.attrType("T");
        if (narrow) x = out.op("Clip", x, out.scalar(name + "/min", t, p[2]), out.scalar(name + "/max", t, p[3]));
        HostTensor zp = HostTensor.scalarOf(signed ? DataType.DT_INT8 : DataType.DT_UINT8, 0);
        qdq(out, name, x, (float) p[1], zp, y);
      }
    }
  }

  /**
   * FakeQuant as Q/DQ. A nudged zero point of 128 (a symmetric range such as [-1, 1]) is the
   * same arithmetic as int8 with zero point 0, the only form TensorRT accepts; any other zero
   * point stays uint8 (exact in ONNX Runtime; TensorRT refuses non-zero zero points).
   */
  private static void qdq(OnnxEmitter out, String name, String x, float scale, float zeroPoint, String y) {
    HostTensor zp = zeroPoint == 128f ? HostTensor.scalarOf(DataType.DT_INT8, 0) : HostTensor.scalarOf(DataType.DT_UINT8, zeroPoint);
    qdq(out, name, x, scale, zp, y);
  }

  /** Per-channel FakeQuant along the last axis: per-axis Q/DQ with each channel's nudged range. */
  private static void perChannel(NodeView n, OnnxEmitter out, String y) {
    HostTensor lo = n.constant(1).orElseThrow();
    HostTensor hi = n.constant(2).orElseThrow();
    boolean narrow = n.attrBool("narrow_range", false);
    int c = (int) lo.numElements();
    float[] scale = new float[c];
    float[] nmin = new float[c];
    float[] nmax = new float[c];
    byte[] zp = new byte[c];
    boolean symmetric = true;
    for (int i = 0; i < c; i++) {
      float[] p = nudge((float) lo.getDouble(i), (float) hi.getDouble(i), narrow);
      scale[i] = p[0];
      zp[i] = (byte) (int) p[1];
      nmin[i] = p[2];
      nmax[i] = p[3];
      symmetric &= p[1] == 128f;
    }
    String name = n.name();
    String x = out.input(n, 0);
    if (narrow) {
      x = out.op("Max", x, out.constant(name + "/nudged_min", HostTensor.ofFloats(new long[] {c}, nmin)));
      x = out.op("Min", x, out.constant(name + "/nudged_max", HostTensor.ofFloats(new long[] {c}, nmax)));
    }
    byte[] z = zp.clone();
    if (symmetric) java.util.Arrays.fill(z, (byte) 0);
    java.nio.ByteBuffer zb = java.nio.ByteBuffer.wrap(z);
    String s = out.constant(name + "/scale", HostTensor.ofFloats(new long[] {c}, scale));
    String zpName = out.constant(name + "/zero_point",
        HostTensor.of(symmetric ? DataType.DT_INT8 : DataType.DT_UINT8, new long[] {c}, zb));
    long axis = new TensorInfoView(n).rank() - 1;
    String q = out.node("QuantizeLinear").in(x, s, zpName).attr("axis", axis).emit();
    out.node("DequantizeLinear").in(q, s, zpName).attr("axis", axis).out(y).emit();
  }

  /** The input's rank and last dimension, -1 where unknown. */
  private record TensorInfoView(int rank, long lastDim) {
    TensorInfoView(NodeView n) {
      this(n.inputInfo(0).hasRank() ? n.inputInfo(0).rank() : -1,
          n.inputInfo(0).hasRank() && n.inputInfo(0).rank() > 0 ? n.inputInfo(0).dim(n.inputInfo(0).rank() - 1) : -1);
    }
  }

  private static void qdq(OnnxEmitter out, String name, String x, float scale, HostTensor zp, String y) {
    String s = out.scalar(name + "/scale", DataType.DT_FLOAT, scale);
    String z = out.constant(name + "/zero_point", zp);
    String q = out.node("QuantizeLinear").in(x, s, z).emit();
    out.node("DequantizeLinear").in(q, s, z).out(y).emit();
  }
}
