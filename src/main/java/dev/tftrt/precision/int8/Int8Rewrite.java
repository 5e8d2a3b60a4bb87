package dev.tftrt.precision.int8;

import com.google.protobuf.ByteString;
import dev.tftrt.TftrtException;
import dev.tftrt.convert.onnx.AttributeProto;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.OperatorSetIdProto;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.precision.calibrate.Calibration;
import dev.tftrt.precision.calibrate.CalibrationData;
import dev.tftrt.precision.calibrate.TensorRanges;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Puts QuantizeLinear/DequantizeLinear pairs (int8, zero point 0, as TensorRT 11 requires) where
 * {@link QdqPlacement} says, with activation scales from calibration (amax / 127, per tensor) and
 * weight scales from the weights themselves (per output channel: max |w| / 127). Everything not
 * quantized is left as it was, in FP32; the input model is never changed.
 */
public final class Int8Rewrite {
  /** ONNX per-axis QuantizeLinear/DequantizeLinear need opset 13. */
  public static final int MIN_OPSET = 13;

  private Int8Rewrite() {}

  /** The activations a rewrite of this segment quantizes: what calibration must measure. */
  public static List<String> tensorsToCalibrate(ModelProto segment) {
    return QdqPlacement.of(segment).activations();
  }

  /** Calibrates exactly the tensors {@link #apply} quantizes. */
  public static TensorRanges calibrate(ModelProto segment, CalibrationData data, Int8Options o) {
    return Calibration.collect(segment, data, o.calibrator(), o.percentile(), tensorsToCalibrate(segment), o.batch());
  }

  /**
   * Calibrates what the layout quantizes. {@link Int8Layout#ONNXRUNTIME} measures the segment
   * as ONNX Runtime's basic optimisations leave it (its quantized ops' inputs and outputs); the
   * ranges keep the hash of the segment given.
   */
  public static TensorRanges calibrate(ModelProto segment, CalibrationData data, Int8Options o, Int8Layout layout) {
    if (layout == Int8Layout.TENSORRT) return calibrate(segment, data, o);
    ModelProto prepared = OrtQdqLayout.prepare(checkOpset(segment));
    TensorRanges r = Calibration.collect(prepared, data, o.calibrator(), o.percentile(),
        OrtQdqLayout.tensorsToCalibrate(prepared), o.batch());
    return new TensorRanges(r.calibrator(), r.dataSha256(), Calibration.segmentSha256(segment), r.samples(), r.amax());
  }

  /** The activations the layout's rewrite of this segment quantizes. */
  public static List<String> tensorsToCalibrate(ModelProto segment, Int8Layout layout) {
    return layout == Int8Layout.TENSORRT ? tensorsToCalibrate(segment)
        : OrtQdqLayout.tensorsToCalibrate(OrtQdqLayout.prepare(checkOpset(segment)));
  }

  public static ModelProto apply(ModelProto segment, TensorRanges ranges, Int8Options options) {
    return apply(segment, ranges);
  }

  /** The rewrite in the given layout; {@link Int8Layout#TENSORRT} is {@link #apply(ModelProto, TensorRanges)}. */
  public static ModelProto apply(ModelProto segment, TensorRanges ranges, Int8Options options, Int8Layout layout) {
    if (layout == Int8Layout.TENSORRT) return apply(segment, ranges);
    return OrtQdqLayout.apply(OrtQdqLayout.prepare(checkOpset(segment)), ranges);
  }

  private static ModelProto checkOpset(ModelProto segment) {
    long opset = segment.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty())
        .mapToLong(OperatorSetIdProto::getVersion).max().orElse(0);
    if (opset < MIN_OPSET) {
      throw new TftrtException("INT8 needs ONNX opset " + MIN_OPSET + " or newer (per-channel Q/DQ), and this segment has "
          + opset + "; convert with --opset " + MIN_OPSET + " or above.");
    }
    return segment;
  }

  public static ModelProto apply(ModelProto segment, TensorRanges ranges) {
    return apply(segment, ranges, Set.of());
  }

  /**
   * As {@link #apply(ModelProto, TensorRanges)}, leaving the ops named in {@code unquantized} in
   * float (no Q/DQ on their inputs): what {@code --accuracy-budget} reverts.
   */
  public static ModelProto apply(ModelProto segment, TensorRanges ranges, Set<String> unquantized) {
    checkOpset(segment);
    GraphProto g = segment.getGraph();
    QdqPlacement plan = QdqPlacement.of(segment);
    Map<String, TensorProto> init = new HashMap<>();
    for (TensorProto t : g.getInitializerList()) init.put(t.getName(), t);

    GraphProto.Builder out = g.toBuilder().clearNode();
    Map<String, String> dqOf = new LinkedHashMap<>(); // tensor -> its dequantized name
    Map<String, List<NodeProto>> after = new HashMap<>(); // producer output -> Q/DQ nodes to place after it
    List<NodeProto> atStart = new ArrayList<>();
    Map<Integer, Map<Integer, String>> rewired = new HashMap<>();
    Map<String, NodeProto> producer = new HashMap<>();
    for (NodeProto n : g.getNodeList()) for (String o : n.getOutputList()) producer.put(o, n);

    for (QdqPlacement.Use u : plan.uses()) {
      if (unquantized.contains(g.getNode(u.node()).getName())) continue;
      String key = u.tensor() + "@" + u.rangeOf();
      String dq = dqOf.get(key);
      if (dq == null) {
        List<NodeProto> pair;
        if (u.weight()) {
          pair = weightPair(u, init.get(u.tensor()), out);
        } else {
          double scale = ranges.scale(u.rangeOf());
          if (!(scale > 0)) continue; // not calibrated, or only zeros: left in float
          String base = u.rangeOf().equals(u.tensor()) ? u.tensor() : u.tensor() + "/as_" + u.rangeOf();
          pair = pair(u.tensor(), base, scalar(out, base + "/int8_scale", (float) scale),
              zeros(out, base + "/int8_zero_point", 1, true), -1);
        }
        dq = pair.get(1).getOutput(0);
        dqOf.put(key, dq);
        NodeProto p = producer.get(u.tensor());
        if (p == null) atStart.addAll(pair);
        else after.computeIfAbsent(u.tensor(), k -> new ArrayList<>()).addAll(pair);
      }
      rewired.computeIfAbsent(u.node(), k -> new HashMap<>()).put(u.input(), dq);
    }
    addNodes(g, out, atStart, rewired, after);
    return segment.toBuilder().setGraph(out).build();
  }

  /**
   * Fills {@code out} (a copy of {@code g} without nodes) with the new nodes in order: those
   * that read only graph inputs and initializers first, then each node of {@code g} with its
   * inputs rewired (node index -> input index -> new name), each followed by the nodes placed
   * after one of its outputs.
   */
  static void addNodes(GraphProto g, GraphProto.Builder out, List<NodeProto> atStart,
      Map<Integer, Map<Integer, String>> rewired, Map<String, List<NodeProto>> after) {
    for (NodeProto n : atStart) out.addNode(n);
    for (int i = 0; i < g.getNodeCount(); i++) {
      NodeProto n = g.getNode(i);
      Map<Integer, String> r = rewired.get(i);
      if (r != null) {
        NodeProto.Builder b = n.toBuilder();
        r.forEach(b::setInput);
        n = b.build();
      }
      out.addNode(n);
      for (String o : n.getOutputList()) for (NodeProto q : after.getOrDefault(o, List.of())) out.addNode(q);
    }
  }

  private static List<NodeProto> weightPair(QdqPlacement.Use u, TensorProto w, GraphProto.Builder out) {
    float[] v = floats(w);
    String name = w.getName();
    if (u.axis() < 0) {
      float amax = 0;
      for (float f : v) amax = Math.max(amax, Math.abs(f));
      return pair(name, name, scalar(out, name + "/int8_scale", amax > 0 ? amax / 127f : 1f),
          zeros(out, name + "/int8_zero_point", 1, true), -1);
    }
    long[] dims = w.getDimsList().stream().mapToLong(Long::longValue).toArray();
    int ch = (int) dims[u.axis()];
    long inner = 1;
    for (int i = u.axis() + 1; i < dims.length; i++) inner *= dims[i];
    float[] amax = new float[ch];
    for (int i = 0; i < v.length; i++) {
      int c = (int) ((i / inner) % ch);
      amax[c] = Math.max(amax[c], Math.abs(v[i]));
    }
    float[] scale = new float[ch];
    for (int c = 0; c < ch; c++) scale[c] = amax[c] > 0 ? amax[c] / 127f : 1f; // an all-zero channel stays zero
    String s = name + "/int8_scale";
    out.addInitializer(floatTensor(s, new long[] {ch}, scale));
    return pair(name, name, s, zeros(out, name + "/int8_zero_point", ch, false), u.axis());
  }

  private static List<NodeProto> pair(String x, String base, String scale, String zp, int axis) {
    String q = base + "/int8_q";
    String dq = base + "/int8_dq";
    NodeProto.Builder qn = NodeProto.newBuilder().setOpType("QuantizeLinear").setName(q)
        .addInput(x).addInput(scale).addInput(zp).addOutput(q);
    NodeProto.Builder dn = NodeProto.newBuilder().setOpType("DequantizeLinear").setName(dq)
        .addInput(q).addInput(scale).addInput(zp).addOutput(dq);
    if (axis >= 0) {
      AttributeProto a = AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(axis).build();
      qn.addAttribute(a);
      dn.addAttribute(a);
    }
    return List.of(qn.build(), dn.build());
  }

  private static String scalar(GraphProto.Builder out, String name, float v) {
    out.addInitializer(floatTensor(name, new long[0], new float[] {v}));
    return name;
  }

  private static String zeros(GraphProto.Builder out, String name, int n, boolean scalar) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT8_VALUE)
        .setRawData(ByteString.copyFrom(new byte[n]));
    if (!scalar) t.addDims(n);
    out.addInitializer(t);
    return name;
  }

  static TensorProto floatTensor(String name, long[] dims, float[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
        .setRawData(ByteString.copyFrom(b.array()));
    for (long d : dims) t.addDims(d);
    return t.build();
  }

  /** A float initializer's values (raw_data, as tftrt writes, or float_data). */
  static float[] floats(TensorProto t) {
    if (t.hasRawData()) {
      FloatBuffer fb = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      float[] v = new float[fb.remaining()];
      fb.get(v);
      return v;
    }
    float[] v = new float[t.getFloatDataCount()];
    for (int i = 0; i < v.length; i++) v[i] = t.getFloatData(i);
    return v;
  }
}
