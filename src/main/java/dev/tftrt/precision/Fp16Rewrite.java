package dev.tftrt.precision;

import com.google.protobuf.ByteString;
import dev.tftrt.convert.onnx.AttributeProto;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The FP16 rewrite of one segment's ONNX: each node is classified (FP16, or FP32 with the rule
 * that keeps it there), float weights used by FP16 nodes are stored as FP16, a Cast is placed
 * where a value crosses between the two, the graph's inputs and outputs keep their types, and
 * redundant cast pairs are removed. The input model is never changed.
 */
final class Fp16Rewrite {
  private static final int FLOAT = ElementTypes.FLOAT;
  private static final int HALF = ElementTypes.FLOAT16;

  private final GraphProto g;
  private final PrecisionStage.Options o;
  private final Map<String, ReferenceRun.Stat> stats;
  private final String reference;
  private final Map<String, Integer> types;
  private final Map<String, TensorProto> inits = new HashMap<>();
  private final Map<String, NodeProto> producer = new HashMap<>();
  private final Map<String, List<NodeProto>> consumers = new HashMap<>();
  private final Set<String> graphOutputs = new HashSet<>();
  private final Map<NodeProto, PrecisionTable.Row> rows = new LinkedHashMap<>();
  private final Set<String> names = new HashSet<>();

  Fp16Rewrite(GraphProto g, PrecisionStage.Options o, Map<String, ReferenceRun.Stat> stats, String reference) {
    this.reference = reference;
    this.g = g;
    this.o = o;
    this.stats = stats;
    this.types = ElementTypes.infer(g);
    for (TensorProto t : g.getInitializerList()) inits.put(t.getName(), t);
    for (ValueInfoProto v : g.getOutputList()) graphOutputs.add(v.getName());
    for (NodeProto n : g.getNodeList()) {
      for (String out : n.getOutputList()) producer.put(out, n);
      for (String in : n.getInputList()) consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
      names.addAll(n.getOutputList());
      names.add(n.getName());
    }
    names.addAll(inits.keySet());
    for (ValueInfoProto v : g.getInputList()) names.add(v.getName());
  }

  private boolean isFloat(String v) {
    return !v.isEmpty() && types.getOrDefault(v, 0) == FLOAT;
  }

  private boolean isConstant(String v) {
    NodeProto p = producer.get(v);
    return inits.containsKey(v) || (p != null && p.getOpType().equals("Constant"));
  }

  // ---- classification ----

  private void classify() {
    for (NodeProto n : g.getNodeList()) rows.put(n, decide(n));
    // Constants and Casts producing float follow their consumers: FP16 when every consumer is.
    for (NodeProto n : g.getNodeList()) {
      if (!(n.getOpType().equals("Constant") || n.getOpType().equals("ConstantOfShape") || n.getOpType().equals("Cast"))) continue;
      PrecisionTable.Row r = rows.get(n);
      if (!r.precision().equals("fp16")) continue;
      String out = n.getOutput(0);
      boolean all = !graphOutputs.contains(out);
      for (NodeProto c : consumers.getOrDefault(out, List.of())) all &= isHalf(c);
      if (!all) rows.put(n, r.with("fp32", "its consumers compute in FP32"));
    }
  }

  /**
   * Computes in FP16. Not an INT8 op: TensorRT fuses a DequantizeLinear into its consumer only
   * when nothing stands between them, and with opset 17's FP32 scales a DequantizeLinear gives
   * FP32, so the op it feeds reads FP32 (no Cast in between) and its output is cast after it.
   */
  private boolean isHalf(NodeProto n) {
    return rows.get(n).precision().equals("fp16");
  }

  private PrecisionTable.Row decide(NodeProto n) {
    String op = n.getOpType();
    boolean floatIo = false;
    for (String v : n.getInputList()) floatIo |= isFloat(v);
    for (String v : n.getOutputList()) floatIo |= isFloat(v);
    if (OpRules.QDQ.contains(op)) return row(n, "q/dq", "Quantize/Dequantize arithmetic and scales stay FP32");
    if (!floatIo || op.equals("Shape") || op.equals("Size")) return row(n, "-", "no float values");
    if (op.equals("Cast") && !isFloat(n.getOutput(0))) return row(n, "-", "casts to a non-float type");
    String kept = o.keepFp32().stream().filter(k -> names(n).contains(k)).findFirst().orElse(null);
    if (kept != null) return row(n, "fp32", "--keep-fp32 " + kept);
    if (OpRules.FP32.containsKey(op)) return row(n, "fp32", OpRules.FP32.get(op));
    if (!OpRules.FP16.contains(op) && !OpRules.FOLLOW.contains(op)) return row(n, "fp32", "no FP16 rule for " + op);
    AttributeProto value = ElementTypes.attr(n, "value");
    if (op.equals("Constant") && value != null && value.getT().getDataType() == FLOAT
        && Weights.maxAbs(value.getT()) > Half.MAX) {
      return row(n, "fp32", "its value is beyond FP16 range");
    }
    for (String v : n.getInputList()) {
      TensorProto t = inits.get(v);
      if (t != null && t.getDataType() == FLOAT && Weights.maxAbs(t) > Half.MAX) {
        return row(n, "fp32", "weight " + v + " is beyond FP16 range");
      }
    }
    for (int i = 0; i < n.getInputCount() + n.getOutputCount(); i++) {
      String v = i < n.getInputCount() ? n.getInput(i) : n.getOutput(i - n.getInputCount());
      ReferenceRun.Stat s = stats.get(v);
      if (s != null && isFloat(v) && !isConstant(v) && !(i < n.getInputCount() && OpRules.untouchedInput(op, i))
          && s.maxAbs() > o.dataMax()) {
        return row(n, "fp32", String.format("|%s| reaches %.4g in the reference run (limit %.4g)", v, s.maxAbs(), o.dataMax()));
      }
    }
    if (OpRules.REDUCTIONS.contains(op)) {
      ReferenceRun.Stat in = stats.get(n.getInput(0));
      ReferenceRun.Stat out = stats.get(n.getOutput(0));
      if (in == null || out == null || out.elements() == 0) {
        return row(n, "fp32", "a reduction whose size the reference run did not measure");
      }
      long reduced = in.elements() / out.elements();
      if (reduced > o.reductionLimit()) {
        return row(n, "fp32", "reduces " + reduced + " values (limit " + o.reductionLimit() + ")");
      }
    }
    if (OpRules.FOLLOW.contains(op)) {
      for (int i = 0; i < n.getInputCount(); i++) {
        String v = n.getInput(i);
        if (!isFloat(v) || isConstant(v)) continue;
        NodeProto p = producer.get(v);
        if (p == null || !(isHalf(p) || rows.get(p).precision().equals("int8"))) {
          return row(n, "fp32", "moves data that is FP32 here");
        }
      }
    }
    if (OpRules.QUANTIZABLE.contains(op) && n.getInputCount() > 0 && fromDequantize(n.getInput(0))) {
      return row(n, "int8", "fed by DequantizeLinear: TensorRT fuses it into an INT8 kernel");
    }
    if (feedsOnlyQuantize(n)) return row(n, "fp32", "feeds only QuantizeLinear: FP32 so TensorRT fuses the Q into it");
    return row(n, "fp16", "");
  }

  /** Pointwise ops TensorRT folds into a quantized op's epilogue (bias, activation) before a Q. */
  private static final Set<String> EPILOGUE = Set.of("Add", "Relu", "Clip", "Mul", "BatchNormalization");
  private final Map<NodeProto, Boolean> feedsQuantize = new HashMap<>();

  /**
   * Every float output goes to QuantizeLinear nodes only, directly or through bias and
   * activation ops that do the same: a cast anywhere on that path would stop TensorRT fusing
   * the chain and the Q into one INT8 kernel.
   */
  private boolean feedsOnlyQuantize(NodeProto n) {
    Boolean known = feedsQuantize.get(n);
    if (known != null) return known;
    boolean any = false;
    boolean all = true;
    for (String v : n.getOutputList()) {
      if (!isFloat(v)) continue;
      if (graphOutputs.contains(v)) all = false;
      for (NodeProto c : consumers.getOrDefault(v, List.of())) {
        any = true;
        if (!c.getOpType().equals("QuantizeLinear") && !(EPILOGUE.contains(c.getOpType()) && feedsOnlyQuantize(c))) all = false;
      }
    }
    boolean r = any && all;
    feedsQuantize.put(n, r);
    return r;
  }

  private boolean fromDequantize(String v) {
    NodeProto p = producer.get(v);
    return p != null && p.getOpType().equals("DequantizeLinear");
  }

  /** What --keep-fp32 may name: the op type, the ONNX node, its TensorFlow node, its outputs. */
  private static Set<String> names(NodeProto n) {
    Set<String> s = new HashSet<>();
    s.add(n.getOpType());
    s.add(n.getName());
    if (!n.getDocString().isEmpty()) s.add(n.getDocString());
    for (String out : n.getOutputList()) {
      s.add(out);
      int colon = out.lastIndexOf(':');
      if (colon > 0) s.add(out.substring(0, colon));
    }
    return s;
  }

  private PrecisionTable.Row row(NodeProto n, String precision, String reason) {
    return new PrecisionTable.Row(n.getName(), n.getOpType(), n.getDocString(), precision, reason);
  }

  // ---- rewrite ----

  private final GraphProto.Builder out = GraphProto.newBuilder();
  private final Map<String, String> casts = new HashMap<>(); // "value|type" -> cast output
  private final Map<String, String> halfInits = new HashMap<>();
  private int castsPlaced;

  PrecisionStage.Result apply(ModelProto model) {
    classify();
    out.setName(g.getName()).addAllInput(g.getInputList()).addAllOutput(g.getOutputList());
    Set<String> usedAsFloat = new HashSet<>();
    for (NodeProto n : g.getNodeList()) {
      boolean half = isHalf(n);
      NodeProto.Builder b = n.toBuilder();
      if (rows.get(n).precision().equals("-") && !n.getOpType().equals("Cast")) {
        out.addNode(b);
        continue;
      }
      for (int i = 0; i < n.getInputCount(); i++) {
        String v = n.getInput(i);
        if (!isFloat(v) || OpRules.untouchedInput(n.getOpType(), i)) continue;
        if (half) b.setInput(i, asHalf(v));
        else b.setInput(i, asFloat(v));
        if (!half) usedAsFloat.add(v);
      }
      if (half) {
        for (int k = 0; k < n.getOutputCount(); k++) {
          String v = n.getOutput(k);
          if (!isFloat(v)) continue;
          if (graphOutputs.contains(v)) b.setOutput(k, fresh(v + "__fp16"));
          halfHome.put(v, b.getOutput(k));
        }
        if (n.getOpType().equals("Cast")) setAttr(b, "to", HALF);
        if (n.getOpType().equals("Constant") || n.getOpType().equals("ConstantOfShape")) halfValueAttr(b);
      }
      out.addNode(b);
      // The graph's outputs keep their dtype: a cast back from FP16 under the output's own name,
      // right after the producer so that later readers of the name see it in order.
      for (String v : n.getOutputList()) {
        if (half && isFloat(v) && graphOutputs.contains(v)) {
          out.addNode(cast(halfHome.get(v), v, FLOAT));
          casts.put(halfHome.get(v) + "|" + FLOAT, v);
        }
      }
    }
    for (TensorProto t : g.getInitializerList()) {
      boolean halfOnly = halfInits.containsKey(t.getName()) && !usedAsFloat.contains(t.getName())
          && floatUsesOtherThanHalf(t.getName()) == 0;
      if (!halfOnly) out.addInitializer(t);
    }
    for (Map.Entry<String, String> e : halfInits.entrySet()) {
      out.addInitializer(Weights.toHalf(inits.get(e.getKey()), e.getValue()));
    }
    GraphProto rewritten = out.build();
    int removed = CastCleanup.countBefore(rewritten);
    rewritten = CastCleanup.apply(rewritten);
    removed -= CastCleanup.countBefore(rewritten);
    ModelProto m = model.toBuilder().setGraph(rewritten).build();
    List<PrecisionTable.Row> list = new ArrayList<>(rows.values());
    return new PrecisionStage.Result(m, new PrecisionTable(list, castsPlaced, Math.max(0, removed), reference));
  }

  private final Map<String, String> halfHome = new HashMap<>();

  /** Uses of an initializer by nodes that take it as FP32 (counted to decide if FP32 is still needed). */
  private int floatUsesOtherThanHalf(String init) {
    int k = 0;
    for (NodeProto c : consumers.getOrDefault(init, List.of())) {
      if (!isHalf(c) && !rows.get(c).precision().equals("-")) k++;
    }
    return k + (graphOutputs.contains(init) ? 1 : 0);
  }

  private String asHalf(String v) {
    if (halfHome.containsKey(v)) return halfHome.get(v);
    if (inits.containsKey(v)) {
      // An initializer only FP16 nodes use is replaced by its FP16 copy under the same name.
      return halfInits.computeIfAbsent(v, k -> floatUsesOtherThanHalf(k) == 0 ? k : fresh(k + "__fp16"));
    }
    return castOf(v, HALF);
  }

  private String asFloat(String v) {
    String h = halfHome.get(v);
    return h == null ? v : castOf(h, FLOAT, v);
  }

  private String castOf(String v, int to) {
    return castOf(v, to, v);
  }

  private String castOf(String v, int to, String base) {
    return casts.computeIfAbsent(v + "|" + to, k -> {
      String name = fresh(base + (to == HALF ? "__to_fp16" : "__to_fp32"));
      out.addNode(cast(v, name, to));
      castsPlaced++;
      return name;
    });
  }

  private NodeProto cast(String in, String outName, int to) {
    return NodeProto.newBuilder().setOpType("Cast").setName(fresh("n/Cast/" + outName)).addInput(in)
        .addOutput(outName).addAttribute(AttributeProto.newBuilder().setName("to")
            .setType(AttributeProto.AttributeType.INT).setI(to)).build();
  }

  private String fresh(String hint) {
    String n = hint;
    for (int k = 1; names.contains(n); k++) n = hint + "_" + k;
    names.add(n);
    return n;
  }

  private static void setAttr(NodeProto.Builder b, String name, int value) {
    for (int i = 0; i < b.getAttributeCount(); i++) {
      if (b.getAttribute(i).getName().equals(name)) b.setAttribute(i, b.getAttribute(i).toBuilder().setI(value));
    }
  }

  private static void halfValueAttr(NodeProto.Builder b) {
    for (int i = 0; i < b.getAttributeCount(); i++) {
      AttributeProto a = b.getAttribute(i);
      if (a.getName().equals("value") && a.getT().getDataType() == FLOAT) {
        b.setAttribute(i, a.toBuilder().setT(Weights.toHalf(a.getT(), a.getT().getName())));
        return;
      }
    }
    // ConstantOfShape without a value gives float zeros: say FP16 zeros explicitly.
    ByteBuffer z = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN);
    b.addAttribute(AttributeProto.newBuilder().setName("value").setType(AttributeProto.AttributeType.TENSOR)
        .setT(TensorProto.newBuilder().setDataType(HALF).addDims(1).setRawData(ByteString.copyFrom(z.array()))));
  }
}
