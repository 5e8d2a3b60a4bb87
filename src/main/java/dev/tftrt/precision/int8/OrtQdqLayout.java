package dev.tftrt.precision.int8;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import dev.tftrt.TftrtException;
import dev.tftrt.convert.onnx.AttributeProto;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import dev.tftrt.precision.calibrate.TensorRanges;
import dev.tftrt.runtime.ort.Ort;
import dev.tftrt.runtime.ort.OrtErrors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@link Int8Layout#ONNXRUNTIME} layout: DQ -> op -> Q units with int8 weight initializers,
 * which ONNX Runtime's CPU provider fuses into integer kernels. Works on the segment after ONNX
 * Runtime's basic optimisations ({@link #prepare}), so that a convolution's batch norm and bias
 * are in its weights and one bias input; calibration measures that prepared model too.
 */
final class OrtQdqLayout {
  private static final Set<String> QUANTIZED = Set.of("Conv", "MatMul", "Gemm");
  /** Ops whose output is some of their input's values, moved: quantized at one scale they commute with Q/DQ. */
  private static final Set<String> SAME_SCALE = Set.of("MaxPool", "Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze");

  private OrtQdqLayout() {}

  /** The segment after ONNX Runtime's basic (semantics-preserving, ONNX-only) optimisations. */
  static ModelProto prepare(ModelProto segment) {
    Path dir = null;
    try {
      dir = Files.createTempDirectory("tftrt-int8-");
      Path out = dir.resolve("prepared.onnx");
      try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
        so.setSessionLogLevel(Ort.logLevel());
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
        so.setOptimizedModelFilePath(out.toString());
        Ort.environment().createSession(segment.toByteArray(), so).close();
      }
      return ModelProto.parseFrom(Files.readAllBytes(out));
    } catch (OrtException e) {
      throw new TftrtException("The segment could not be prepared for INT8 on ONNX Runtime: " + OrtErrors.why(e) + ".", e);
    } catch (IOException e) {
      throw new TftrtException("The segment could not be prepared for INT8 on ONNX Runtime: " + e.getMessage() + ".", e);
    } finally {
      if (dir != null) {
        try (var files = Files.list(dir)) {
          for (Path p : files.toList()) Files.deleteIfExists(p);
          Files.deleteIfExists(dir);
        } catch (IOException e) {
          // a scratch file in the temp folder; nothing depends on it
        }
      }
    }
  }

  /** A quantized op: node index, its data input, its weight, bias (or null), weight axis, and the Q/DQ'd output. */
  record Unit(int node, String input, TensorProto weight, int weightInput, TensorProto bias, int axis, String output) {}

  /** What the layout quantizes in a prepared model. */
  static final class Plan {
    final List<Unit> units = new ArrayList<>();
    final Set<String> nonNegative = new LinkedHashSet<>(); // a ReLU/ReLU6 output: uint8 zero point 0
    final Map<String, String> sameScaleAs = new HashMap<>(); // activation -> the unit output whose scale it keeps
  }

  static Plan plan(ModelProto m) {
    GraphProto g = m.getGraph();
    Map<String, TensorProto> init = new HashMap<>();
    for (TensorProto t : g.getInitializerList()) init.put(t.getName(), t);
    Map<String, List<NodeProto>> consumers = new HashMap<>();
    Map<String, NodeProto> producer = new HashMap<>();
    for (NodeProto n : g.getNodeList()) {
      for (String in : n.getInputList()) consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
      for (String o : n.getOutputList()) producer.put(o, n);
    }
    Set<String> graphOut = new LinkedHashSet<>();
    for (ValueInfoProto v : g.getOutputList()) graphOut.add(v.getName());
    Plan p = new Plan();
    for (int i = 0; i < g.getNodeCount(); i++) {
      NodeProto n = g.getNode(i);
      if (!QUANTIZED.contains(n.getOpType()) || n.getInputCount() < 2) continue;
      String x = n.getInput(0);
      TensorProto w = init.get(n.getInput(1));
      if (init.containsKey(x) || w == null || w.getDataType() != TensorProto.DataType.FLOAT_VALUE) continue;
      int axis;
      switch (n.getOpType()) {
        case "Conv" -> axis = 0;
        case "Gemm" -> axis = QdqPlacement.intAttr(n, "transB") != 0 ? 0 : 1;
        default -> axis = w.getDimsCount() == 2 ? 1 : -1;
      }
      if (n.getOpType().equals("Gemm") && (QdqPlacement.intAttr(n, "transA") != 0 || w.getDimsCount() != 2)) continue;
      TensorProto b = null;
      if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
        b = init.get(n.getInput(2));
        if (b == null || b.getDataType() != TensorProto.DataType.FLOAT_VALUE || b.getDimsCount() > 1) continue;
        if (n.getOpType().equals("Gemm") && !(floatAttr(n, "alpha", 1f) == 1f && floatAttr(n, "beta", 1f) == 1f)) continue;
      }
      // the output Q goes after a ReLU/ReLU6 that only this op feeds: ONNX Runtime then drops it
      String out = n.getOutput(0);
      List<NodeProto> next = consumers.getOrDefault(out, List.of());
      if (!graphOut.contains(out) && next.size() == 1 && nonNegativeActivation(next.get(0), init)) {
        out = next.get(0).getOutput(0);
        p.nonNegative.add(out);
      }
      if (feedsGraphOutput(out, graphOut, consumers)) out = null; // the model's result stays float
      p.units.add(new Unit(i, x, w, 1, b, axis, out));
    }
    // a unit's input reached from a unit's output through max pooling and data movement only
    // takes that output's scale: ONNX Runtime then runs the pooling and reshapes in int8
    Set<String> outs = new LinkedHashSet<>();
    for (Unit u : p.units) if (u.output() != null) outs.add(u.output());
    for (Unit u : p.units) {
      String t = u.input();
      for (int d = 0; d < 6 && !outs.contains(t); d++) {
        NodeProto n = producer.get(t);
        if (n == null || !SAME_SCALE.contains(n.getOpType()) || n.getInputCount() == 0) break;
        List<NodeProto> c = consumers.getOrDefault(n.getInput(0), List.of());
        if (c.size() != 1) break; // another reader would see the other scale
        t = n.getInput(0);
      }
      if (outs.contains(t) && !t.equals(u.input())) p.sameScaleAs.put(u.input(), t);
    }
    return p;
  }

  /** The tensors calibration must measure for this layout: every quantized op's input and output. */
  static List<String> tensorsToCalibrate(ModelProto prepared) {
    Set<String> r = new LinkedHashSet<>();
    Plan p = plan(prepared);
    for (Unit u : p.units) {
      if (!p.sameScaleAs.containsKey(u.input())) r.add(u.input());
      if (u.output() != null) r.add(u.output());
    }
    return new ArrayList<>(r);
  }

  static ModelProto apply(ModelProto prepared, TensorRanges ranges) {
    GraphProto g = prepared.getGraph();
    Plan plan = plan(prepared);
    GraphProto.Builder out = g.toBuilder().clearNode();
    Map<String, String> dqOf = new LinkedHashMap<>(); // activation -> its DQ output
    Map<String, List<NodeProto>> after = new HashMap<>();
    List<NodeProto> atStart = new ArrayList<>();
    Map<Integer, Map<Integer, String>> rewired = new HashMap<>();
    Map<String, String> weights = new HashMap<>(); // a weight shared by two ops is quantized once
    Set<String> produced = new LinkedHashSet<>();
    for (NodeProto n : g.getNodeList()) produced.addAll(n.getOutputList());

    for (Unit u : plan.units) {
      float[] in = params(u.input(), ranges, plan);
      if (in == null) continue; // input not calibrated: this op stays float
      Map<Integer, String> r = rewired.computeIfAbsent(u.node(), k -> new HashMap<>());
      r.put(0, qdq(u.input(), in, out, dqOf, after, atStart, produced));
      float[] ws = weightScales(u.weight(), u.axis());
      r.put(u.weightInput(), weights.computeIfAbsent(u.weight().getName(), k -> weight(u.weight(), ws, u.axis(), out)));
      if (u.bias() != null) r.put(2, bias(u.bias(), u.node(), in[0], ws, out));
      if (u.output() != null) {
        float[] o = params(u.output(), ranges, plan);
        if (o != null) qdq(u.output(), o, out, dqOf, after, atStart, produced);
      }
    }
    // every reader of a Q/DQ'd activation reads its DQ (the Q itself reads the original)
    for (int i = 0; i < g.getNodeCount(); i++) {
      NodeProto n = g.getNode(i);
      for (int k = 0; k < n.getInputCount(); k++) {
        String dq = dqOf.get(n.getInput(k));
        if (dq != null) rewired.computeIfAbsent(i, x -> new HashMap<>()).putIfAbsent(k, dq);
      }
    }
    Int8Rewrite.addNodes(g, out, atStart, rewired, after);
    return prepared.toBuilder().setGraph(out).build();
  }

  /** {scale, zero point} of an activation, or null when it has no range. */
  private static float[] params(String t, TensorRanges ranges, Plan plan) {
    if (plan.sameScaleAs.containsKey(t)) return params(plan.sameScaleAs.get(t), ranges, plan);
    Double amax = ranges.amax().get(t);
    if (amax == null || !(amax > 0)) return null;
    // uint8, ONNX Runtime's own activation type on the CPU (U8S8): with int8 activations it
    // converts Q/DQ pairs to uint8 itself and then left every Conv -> Q whose input was at zero
    // point -128 unfused (DeepLab's 17 projection convolutions); the levels are the same
    return plan.nonNegative.contains(t) ? new float[] {(float) (amax / 255), 0} : new float[] {(float) (amax / 127), 128};
  }

  private static String qdq(String t, float[] p, GraphProto.Builder out, Map<String, String> dqOf,
      Map<String, List<NodeProto>> after, List<NodeProto> atStart, Set<String> produced) {
    String have = dqOf.get(t);
    if (have != null) return have;
    String s = t + "/int8_scale";
    String z = t + "/int8_zero_point";
    out.addInitializer(Int8Rewrite.floatTensor(s, new long[0], new float[] {p[0]}));
    out.addInitializer(TensorProto.newBuilder().setName(z).setDataType(TensorProto.DataType.UINT8_VALUE)
        .setRawData(ByteString.copyFrom(new byte[] {(byte) (int) p[1]})));
    String q = t + "/int8_q";
    String dq = t + "/int8_dq";
    List<NodeProto> pair = List.of(
        NodeProto.newBuilder().setOpType("QuantizeLinear").setName(q).addInput(t).addInput(s).addInput(z).addOutput(q).build(),
        NodeProto.newBuilder().setOpType("DequantizeLinear").setName(dq).addInput(q).addInput(s).addInput(z).addOutput(dq).build());
    if (produced.contains(t)) after.computeIfAbsent(t, k -> new ArrayList<>()).addAll(pair);
    else atStart.addAll(pair);
    dqOf.put(t, dq);
    return dq;
  }

  /** Per output channel max |w| / 127 (1 for an all-zero channel, which stays zero). */
  static float[] weightScales(TensorProto w, int axis) {
    float[] v = Int8Rewrite.floats(w);
    long[] dims = w.getDimsList().stream().mapToLong(Long::longValue).toArray();
    int ch = axis < 0 ? 1 : (int) dims[axis];
    long inner = inner(dims, axis);
    float[] amax = new float[ch];
    for (int i = 0; i < v.length; i++) {
      int c = axis < 0 ? 0 : (int) ((i / inner) % ch);
      amax[c] = Math.max(amax[c], Math.abs(v[i]));
    }
    float[] s = new float[ch];
    for (int c = 0; c < ch; c++) s[c] = amax[c] > 0 ? amax[c] / 127f : 1f;
    return s;
  }

  private static long inner(long[] dims, int axis) {
    long inner = 1;
    for (int i = axis + 1; axis >= 0 && i < dims.length; i++) inner *= dims[i];
    return inner;
  }

  /** The weight as an int8 initializer (rounded half to even, as QuantizeLinear) and its DequantizeLinear. */
  private static String weight(TensorProto w, float[] scale, int axis, GraphProto.Builder out) {
    float[] v = Int8Rewrite.floats(w);
    long[] dims = w.getDimsList().stream().mapToLong(Long::longValue).toArray();
    long inner = inner(dims, axis);
    byte[] q = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      int c = axis < 0 ? 0 : (int) ((i / inner) % scale.length);
      q[i] = (byte) Math.max(-127, Math.min(127, Math.rint(v[i] / scale[c])));
    }
    String name = w.getName() + "/int8";
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT8_VALUE)
        .setRawData(ByteString.copyFrom(q));
    for (long d : dims) t.addDims(d);
    out.addInitializer(t);
    return dequantize(name, scale, new byte[axis < 0 ? 1 : scale.length], TensorProto.DataType.INT8_VALUE, axis, out);
  }

  /** A float bias as int32 at scale s_x * s_w (what QLinearConv and QGemm take) and its DequantizeLinear. */
  private static String bias(TensorProto b, int node, float inScale, float[] ws, GraphProto.Builder out) {
    float[] v = Int8Rewrite.floats(b);
    float[] scale = new float[v.length];
    ByteBuffer q = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int c = 0; c < v.length; c++) {
      scale[c] = inScale * ws[ws.length == 1 ? 0 : c];
      q.putInt((int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, Math.rint(v[c] / scale[c]))));
    }
    String name = b.getName() + "/int32_" + node; // its scale depends on the op's input
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT32_VALUE)
        .setRawData(ByteString.copyFrom(q.array()));
    for (long d : b.getDimsList()) t.addDims(d);
    out.addInitializer(t);
    return dequantize(name, scale, new byte[v.length * 4], TensorProto.DataType.INT32_VALUE, 0, out);
  }

  private static String dequantize(String q, float[] scale, byte[] zeros, int zeroType, int axis, GraphProto.Builder out) {
    boolean perAxis = axis >= 0 && scale.length > 1;
    String s = q + "_scale";
    String z = q + "_zero_point";
    out.addInitializer(Int8Rewrite.floatTensor(s, perAxis ? new long[] {scale.length} : new long[0],
        perAxis ? scale : new float[] {scale[0]}));
    TensorProto.Builder zt = TensorProto.newBuilder().setName(z).setDataType(zeroType)
        .setRawData(ByteString.copyFrom(perAxis ? zeros : new byte[zeroType == TensorProto.DataType.INT32_VALUE ? 4 : 1]));
    if (perAxis) zt.addDims(scale.length);
    out.addInitializer(zt);
    String dq = q + "_dq";
    NodeProto.Builder n = NodeProto.newBuilder().setOpType("DequantizeLinear").setName(dq).addInput(q).addInput(s).addInput(z)
        .addOutput(dq);
    if (perAxis) {
      n.addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(axis));
    }
    out.addNode(n);
    return dq;
  }

  private static boolean nonNegativeActivation(NodeProto n, Map<String, TensorProto> init) {
    if (n.getOpType().equals("Relu")) return true;
    if (!n.getOpType().equals("Clip") || n.getInputCount() < 2 || n.getInput(1).isEmpty()) return false;
    TensorProto min = init.get(n.getInput(1));
    if (min == null || min.getDataType() != TensorProto.DataType.FLOAT_VALUE) return false;
    float[] v = Int8Rewrite.floats(min);
    return v.length == 1 && v[0] == 0f;
  }

  private static boolean feedsGraphOutput(String t, Set<String> graphOut, Map<String, List<NodeProto>> consumers) {
    for (int d = 0; d < 4; d++) {
      if (graphOut.contains(t)) return true;
      List<NodeProto> c = consumers.getOrDefault(t, List.of());
      if (c.size() != 1 || !c.get(0).getOpType().equals("Identity")) return false;
      t = c.get(0).getOutput(0);
    }
    return false;
  }

  private static float floatAttr(NodeProto n, String name, float dflt) {
    for (AttributeProto a : n.getAttributeList()) if (a.getName().equals(name)) return a.getF();
    return dflt;
  }
}
