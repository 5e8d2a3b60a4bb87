package dev.tftrt.optimize;

import dev.tftrt.TftrtException;
import dev.tftrt.graph.TensorInfo;
import dev.tftrt.graph.TensorInfoTable;
import dev.tftrt.model.TensorNames;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Constant folding, with TensorFlow itself as the evaluator. The maximal subgraphs whose inputs
 * are all constants (no Placeholder, no stateful or random op, no control flow, nothing
 * without outputs, nothing waiting on a node outside the subgraph) are imported into a fresh
 * TensorFlow graph; one session run computes the tensors that the rest of the graph reads from
 * them, and those become Const nodes. A single-output node keeps its name (as a Const), so
 * designated outputs stay where they were; other results get new Const nodes.
 *
 * <p>A result larger than {@link PassContext#maxConstantBytes()} is not materialised: its
 * producer stays and is computed at run time (the constants it reads are folded as far as
 * allowed). Before that, Shape, Size and Rank of tensors whose static shape TensorFlow infers
 * completely (Rank: whose rank it infers) are replaced by their values.
 *
 * <p>One exception keeps weights small: a Dequantize of an 8-bit Const read only as the filter of
 * convolutions is not folded (a float32 constant would take four times the bytes);
 * their converter keeps such filters 8-bit in the ONNX (DequantizeLinear on an 8-bit initializer).
 *
 * <p>Counters: "shape_folded", "folded" (nodes whose computation was removed), "constants"
 * (Const nodes written), "skipped_too_large", "skipped_unevaluable", "kept_8bit" (Dequantize left for the
 * converters), "removed" (nodes gone).
 */
public final class ConstantFoldingPass implements GraphPass {
  public static final String NAME = "fold-constants";

  /** Ops never folded although TensorFlow does not call them stateful. */
  private static final Set<String> NEVER = Set.of("Placeholder", "PlaceholderV2",
      "PlaceholderWithDefault", "Const", "HostConst", "Assert", "Print", "PrintV2", "NoOp",
      "CheckNumerics", "CheckNumericsV2", "VarHandleOp", "ReadVariableOp", "_Arg", "_Retval");

  private static final int MAX_ROUNDS = 16;

  /**
   * Ops whose converters take 8-bit weights behind a Dequantize, and at which input. Not MatMul:
   * ONNX Runtime (extended optimisation) turns a DequantizeLinear weight feeding a MatMul into a
   * matmul on dynamically quantized activations, about 0.3% off TensorFlow's float result.
   */
  private static final Map<String, Set<Integer>> DEQUANTIZED_WEIGHT_READERS = Map.of(
      "Conv2D", Set.of(1), "Conv3D", Set.of(1), "DepthwiseConv2dNative", Set.of(1));

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public GraphDef apply(GraphDef g, PassContext ctx) {
    NodeGraph graph = NodeGraph.of(g);
    int before = graph.size();
    Set<String> keep = ctx.protectedNodes();
    TensorInfoTable infos = needsInfos(g) ? infos(g) : null;
    if (infos != null) foldShapes(graph, infos, keep, ctx);

    Set<String> excluded = new HashSet<>();
    for (NodeDef n : graph.nodes()) {
      if (isQuantizedWeight(graph, n, keep)) {
        excluded.add(n.getName());
        ctx.count(NAME, "kept_8bit", 1);
      }
    }
    for (int round = 0; round < MAX_ROUNDS; round++) {
      Set<String> foldable = foldable(graph, excluded, keep);
      Map<String, Boolean> boundary = boundary(graph, foldable, keep);
      if (boundary.isEmpty()) break;
      // Results whose static size is known to be too large are never computed.
      boolean changed = false;
      if (infos == null) infos = infos(g);
      if (infos != null) {
        for (String t : boundary.keySet()) {
          long bytes = staticBytes(infos, t);
          if (bytes > ctx.maxConstantBytes()) {
            excluded.add(TensorNames.node(t));
            ctx.count(NAME, "skipped_too_large", 1);
            changed = true;
          }
        }
      }
      if (changed) continue;
      Map<String, HostTensor> values = evaluate(g, graph, foldable, boundary.keySet(), excluded, ctx);
      if (values == null) continue; // some producers were excluded; recompute the subgraphs
      replace(graph, foldable, boundary, values, ctx);
      break;
    }
    int removedCount = before - graph.size();
    if (removedCount > 0) ctx.count(NAME, "removed", removedCount);
    return graph.toGraphDef();
  }

  // ------------------------------------------------------------------ which nodes fold

  /** Nodes computable from constants alone, Const nodes included. */
  private static Set<String> foldable(NodeGraph graph, Set<String> excluded, Set<String> keep) {
    Set<String> f = new HashSet<>();
    for (String name : graph.topologicalOrder()) {
      NodeDef n = graph.node(name);
      if (excluded.contains(name)) continue;
      boolean isConst = n.getOp().equals("Const");
      if (!isConst && !canFold(n, keep)) continue;
      boolean ok = true;
      int data = 0;
      for (String in : n.getInputList()) {
        if (!TensorNames.isControl(in)) data++;
        if (!f.contains(TensorNames.node(in))) {
          ok = false;
          break;
        }
      }
      if (ok && (isConst || data > 0)) f.add(name);
    }
    return f;
  }

  /**
   * A Dequantize of an 8-bit Const (as graph_transforms' quantize_weights writes) whose every
   * reader takes it as a weight it keeps 8-bit; anything else reading it would need the floats.
   */
  private static boolean isQuantizedWeight(NodeGraph graph, NodeDef n, Set<String> keep) {
    if (!n.getOp().equals("Dequantize") || keep.contains(n.getName())) return false;
    List<String> ins = NodeGraph.dataInputs(n);
    if (ins.isEmpty()) return false;
    NodeDef q = graph.node(TensorNames.node(ins.get(0)));
    if (q == null || !q.getOp().equals("Const")) return false;
    DataType t = NodeGraph.dtypeAttr(q, "dtype");
    if (t != DataType.DT_QUINT8 && t != DataType.DT_QINT8) return false;
    List<NodeGraph.Edge> readers = graph.dataConsumers(n.getName());
    if (readers.isEmpty()) return false;
    for (NodeGraph.Edge e : readers) {
      Set<Integer> at = DEQUANTIZED_WEIGHT_READERS.get(graph.node(e.consumer()).getOp());
      if (at == null || !at.contains(e.slot()) || !e.tensor().equals(n.getName() + ":0")) return false;
    }
    return true;
  }

  private static boolean canFold(NodeDef n, Set<String> keep) {
    String op = n.getOp();
    if (NEVER.contains(op) || NodeGraph.CONTROL_FLOW.contains(op)) return false;
    if (op.contains("Random") || op.contains("TruncatedNormal") || op.contains("Multinomial")) return false;
    if (NodeGraph.isStateful(n) || NodeGraph.outputCount(n) < 1) return false;
    if (keep.contains(n.getName()) && NodeGraph.outputCount(n) != 1) return false;
    for (AttrValue a : n.getAttrMap().values()) {
      if (a.hasFunc() || a.getList().getFuncCount() > 0) return false;
      if (unfoldableType(a.getType())) return false;
      for (DataType t : a.getList().getTypeList()) if (unfoldableType(t)) return false;
    }
    return true;
  }

  private static boolean unfoldableType(DataType t) {
    return t == DataType.DT_RESOURCE || t == DataType.DT_VARIANT || t.getNumber() > 100;
  }

  /**
   * The tensors of folded (non-Const) nodes that must become constants: those read by a node
   * that does not fold, and the outputs of designated nodes. Value: whether the producer has
   * one output (then the Const takes its name).
   */
  private static Map<String, Boolean> boundary(NodeGraph graph, Set<String> foldable, Set<String> keep) {
    Map<String, Boolean> r = new LinkedHashMap<>();
    for (String name : graph.topologicalOrder()) {
      if (!foldable.contains(name)) continue;
      NodeDef n = graph.node(name);
      if (n.getOp().equals("Const")) continue;
      boolean single = NodeGraph.outputCount(n) == 1;
      if (keep.contains(name)) r.put(name + ":0", single);
      for (NodeGraph.Edge e : graph.dataConsumers(name)) {
        if (!foldable.contains(e.consumer())) r.put(e.tensor(), single);
      }
    }
    return r;
  }

  /** TensorFlow's static dtypes and shapes, or null when it cannot load the graph. */
  private static TensorInfoTable infos(GraphDef g) {
    try {
      return TensorInfoTable.of(g);
    } catch (TftrtException e) {
      return null;
    }
  }

  private static long staticBytes(TensorInfoTable infos, String tensor) {
    if (!infos.contains(tensor)) return -1;
    TensorInfo i = infos.get(tensor);
    if (!i.isFullyKnown() || !DTypes.isSupported(i.dtype()) || i.dtype() == DataType.DT_STRING) return -1;
    long n = 1;
    for (long d : i.dims()) n *= d;
    return n * DTypes.byteSize(i.dtype());
  }

  // ------------------------------------------------------------------ evaluation

  /**
   * Computes the boundary tensors in one TensorFlow session. Returns null after excluding
   * producers whose results cannot be used (too large, unsupported dtype, failing to run).
   */
  private static Map<String, HostTensor> evaluate(GraphDef original, NodeGraph graph,
      Set<String> foldable, Set<String> boundary, Set<String> excluded, PassContext ctx) {
    Set<String> needed = new LinkedHashSet<>();
    Deque<String> work = new ArrayDeque<>();
    for (String t : boundary) work.add(TensorNames.node(t));
    while (!work.isEmpty()) {
      String n = work.poll();
      if (!needed.add(n)) continue;
      for (String in : graph.node(n).getInputList()) work.add(TensorNames.node(in));
    }
    GraphDef.Builder sub = GraphDef.newBuilder().setVersions(original.getVersions());
    for (String n : graph.topologicalOrder()) {
      if (needed.contains(n)) sub.addNode(graph.node(n).toBuilder().clearDevice().removeAttr("_class"));
    }
    List<String> fetches = new ArrayList<>(boundary);
    Map<String, HostTensor> values = new HashMap<>();
    boolean excludedAny = false;
    try (Graph tg = new Graph(); Session s = new Session(tg)) {
      try {
        tg.importGraphDef(sub.build());
      } catch (RuntimeException e) {
        throw new TftrtException("constant folding could not load the constant subgraph into TensorFlow: "
            + firstLine(e), e);
      }
      Map<String, HostTensor> all = run(s, fetches);
      if (all == null) {
        // Something in the batch fails: evaluate one by one and leave the failing ones.
        all = new HashMap<>();
        for (String t : fetches) {
          Map<String, HostTensor> one = run(s, List.of(t));
          if (one == null) {
            excluded.add(TensorNames.node(t));
            ctx.count(NAME, "skipped_unevaluable", 1);
            excludedAny = true;
          } else {
            all.putAll(one);
          }
        }
      }
      for (Map.Entry<String, HostTensor> e : all.entrySet()) {
        HostTensor v = e.getValue();
        if (v == null) {
          excluded.add(TensorNames.node(e.getKey()));
          ctx.count(NAME, "skipped_unevaluable", 1);
          excludedAny = true;
        } else if (bytes(v) > ctx.maxConstantBytes()) {
          excluded.add(TensorNames.node(e.getKey()));
          ctx.count(NAME, "skipped_too_large", 1);
          excludedAny = true;
        } else {
          values.put(e.getKey(), v);
        }
      }
    }
    return excludedAny ? null : values;
  }

  /** Fetches the tensors; null when the run fails; a null value for an unsupported dtype. */
  private static Map<String, HostTensor> run(Session s, List<String> fetches) {
    Session.Runner r = s.runner();
    for (String t : fetches) r.fetch(t);
    Map<String, HostTensor> out = new HashMap<>();
    try (Result res = r.run()) {
      for (int i = 0; i < fetches.size(); i++) {
        Tensor t = res.get(i);
        HostTensor h;
        try {
          h = HostTensor.fromTensor(t);
        } catch (RuntimeException e) {
          h = null;
        }
        out.put(fetches.get(i), h);
      }
      return out;
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static long bytes(HostTensor v) {
    if (v.dtype() != DataType.DT_STRING) return v.numElements() * DTypes.byteSize(v.dtype());
    long b = 0;
    for (int i = 0; i < v.numElements(); i++) b += v.string(i).length;
    return b;
  }

  // ------------------------------------------------------------------ rewriting

  private static void replace(NodeGraph graph, Set<String> foldable, Map<String, Boolean> boundary,
      Map<String, HostTensor> values, PassContext ctx) {
    Set<String> inPlace = new HashSet<>();
    List<String> candidates = new ArrayList<>();
    for (Map.Entry<String, Boolean> b : boundary.entrySet()) {
      String tensor = b.getKey();
      String node = TensorNames.node(tensor);
      HostTensor v = values.get(tensor);
      if (b.getValue()) {
        for (String in : graph.node(node).getInputList()) candidates.add(TensorNames.node(in));
        graph.put(NodeGraph.constNode(node, v));
        inPlace.add(node);
      } else {
        String name = graph.uniqueName(node + "/folded_" + TensorNames.index(tensor));
        graph.put(NodeGraph.constNode(name, v));
        graph.redirect(tensor, name, Set.of());
      }
      ctx.count(NAME, "constants", 1);
    }
    // Folded nodes order nothing (they have no effects): their control edges go, then they do.
    List<String> folded = new ArrayList<>();
    for (String n : foldable) {
      NodeDef d = graph.node(n);
      if (d == null || inPlace.contains(n) || d.getOp().equals("Const")) continue;
      graph.replaceControlEdges(n, List.of());
      folded.add(n);
    }
    candidates.addAll(folded);
    graph.removeDead(candidates, ctx.protectedNodes());
    int gone = inPlace.size();
    for (String n : folded) if (!graph.contains(n)) gone++;
    ctx.count(NAME, "folded", gone);
  }

  // ------------------------------------------------------------------ Shape, Size, Rank

  private static boolean needsInfos(GraphDef g) {
    for (NodeDef n : g.getNodeList()) {
      String op = n.getOp();
      if (op.equals("Shape") || op.equals("Size") || op.equals("Rank")) return true;
    }
    return false;
  }

  private static void foldShapes(NodeGraph graph, TensorInfoTable infos, Set<String> keep, PassContext ctx) {
    boolean frames = false;
    for (NodeDef n : graph.nodes()) frames |= NodeGraph.CONTROL_FLOW.contains(n.getOp());
    for (NodeDef n : graph.nodes()) {
      String op = n.getOp();
      if (!(op.equals("Shape") || op.equals("Size") || op.equals("Rank"))) continue;
      List<String> ins = NodeGraph.dataInputs(n);
      if (ins.size() != 1 || !infos.contains(ins.get(0))) continue;
      TensorInfo info = infos.get(ins.get(0));
      HostTensor value;
      if (op.equals("Rank")) {
        if (!info.hasRank()) continue;
        value = HostTensor.scalarOf(DataType.DT_INT32, info.rank());
      } else {
        if (!info.isFullyKnown()) continue;
        DataType t = NodeGraph.dtypeAttr(n, "out_type");
        if (t != DataType.DT_INT64) t = DataType.DT_INT32;
        long[] dims = info.dims();
        if (op.equals("Size")) {
          long size = 1;
          for (long d : dims) size *= d;
          value = HostTensor.scalarOf(t, size);
        } else {
          ByteBuffer b = ByteBuffer.allocate(dims.length * DTypes.byteSize(t)).order(ByteOrder.LITTLE_ENDIAN);
          for (int i = 0; i < dims.length; i++) HostTensor.putDouble(b, i, t, dims[i]);
          value = HostTensor.of(t, new long[] {dims.length}, b);
        }
      }
      NodeDef.Builder c = NodeGraph.constNode(n.getName(), value).toBuilder();
      // Inside TF1 loops a Const must stay in its frame: it keeps waiting on what it measured.
      for (String ctrl : NodeGraph.controlInputs(n)) c.addInput("^" + ctrl);
      if (frames) c.addInput("^" + TensorNames.node(ins.get(0)));
      String source = TensorNames.node(ins.get(0));
      graph.put(c.build());
      graph.removeDead(List.of(source), keep);
      ctx.count(NAME, "shape_folded", 1);
    }
  }

  private static String firstLine(Throwable e) {
    String m = e.getMessage() == null ? e.toString() : e.getMessage().strip();
    int nl = m.indexOf('\n');
    return nl > 0 ? m.substring(0, nl) : m;
  }
}
