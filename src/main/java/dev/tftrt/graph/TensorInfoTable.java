package dev.tftrt.graph;

import dev.tftrt.model.GraphChecks;
import dev.tftrt.model.TensorNames;
import dev.tftrt.TftrtException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Static dtype and shape of every tensor of a graph, as TensorFlow's own shape functions infer
 * them: the GraphDef is imported into an {@link Graph} once and each output is read. Unknown
 * dimensions stay unknown (-1). Placeholder shapes can be overridden (user-given input shapes)
 * before inference runs, so they propagate.
 */
public final class TensorInfoTable {
  private final Map<String, TensorInfo> infos = new HashMap<>();

  private TensorInfoTable() {}

  public static TensorInfoTable of(GraphDef graph) {
    return of(graph, Map.of());
  }

  /**
   * @param placeholderShapes node name of a Placeholder -> its shape (-1 unknown), applied to a
   *     copy of the graph before inference
   */
  public static TensorInfoTable of(GraphDef graph, Map<String, long[]> placeholderShapes) {
    TensorInfoTable t = infer(graph, placeholderShapes);
    t.refineLoops(graph, placeholderShapes);
    return t;
  }

  /** TensorFlow's inference alone, loops as TensorFlow leaves them. */
  private static TensorInfoTable infer(GraphDef graph, Map<String, long[]> placeholderShapes) {
    GraphDef g = graph;
    if (!placeholderShapes.isEmpty()) {
      GraphDef.Builder b = graph.toBuilder();
      for (int i = 0; i < b.getNodeCount(); i++) {
        NodeDef n = b.getNode(i);
        long[] s = placeholderShapes.get(n.getName());
        if (s == null) continue;
        if (!n.getOp().startsWith("Placeholder")) {
          throw new TftrtException("cannot set the shape of node '" + n.getName()
              + "': it is a " + n.getOp() + ", not a Placeholder.");
        }
        TensorShapeProto.Builder sp = TensorShapeProto.newBuilder();
        for (long d : s) sp.addDimBuilder().setSize(d);
        b.setNode(i, n.toBuilder().putAttr("shape", AttrValue.newBuilder().setShape(sp).build()));
      }
      g = b.build();
    }
    TensorInfoTable t = new TensorInfoTable();
    GraphChecks.check(g, "the graph");
    try (Graph tf = new Graph()) {
      try {
        tf.importGraphDef(g);
      } catch (IllegalArgumentException e) {
        throw new TftrtException("TensorFlow cannot load the graph for shape inference: "
            + firstLine(e.getMessage()), e);
      }
      // With the input shapes given (--shape), what the graph would allocate becomes known.
      GraphChecks.checkInferredSizes(tf, placeholderShapes.isEmpty() ? "the graph" : "the graph at the input shapes given");
      for (Iterator<GraphOperation> it = tf.operations(); it.hasNext(); ) {
        GraphOperation op = it.next();
        for (int i = 0; i < op.numOutputs(); i++) {
          var out = op.output(i);
          t.infos.put(TensorNames.of(op.name(), i), new TensorInfo(out.dataType(), dims(out.shape())));
        }
      }
    }
    return t;
  }

  /**
   * Like {@link #of(GraphDef, Map)}, but the graph is cut at some inner tensors: each becomes a
   * Placeholder of the given info (dims null: as inferred on the whole graph) for its consumers,
   * so that what follows is inferred from the cut alone, as the exported model will see it.
   *
   * @param cuts canonical tensor name ("node:i") -> dims (-1 unknown), or null to keep inferred
   */
  public static TensorInfoTable ofCut(GraphDef graph, Map<String, long[]> placeholderShapes,
      Map<String, long[]> cuts) {
    TensorInfoTable whole = of(graph, placeholderShapes);
    if (cuts.isEmpty()) return whole;
    Map<String, TensorInfo> cutInfo = new HashMap<>();
    for (Map.Entry<String, long[]> e : cuts.entrySet()) {
      TensorInfo inferred = whole.get(e.getKey());
      cutInfo.put(e.getKey(), new TensorInfo(inferred.dtype(), e.getValue() != null ? e.getValue() : inferred.dims()));
    }
    Map<String, String> replacement = new HashMap<>();
    GraphDef cut = cut(graph, cutInfo, replacement);
    TensorInfoTable t;
    try {
      t = of(cut, placeholderShapes);
    } catch (TftrtException e) {
      return whole; // the cut shapes contradict the graph; TensorFlow will say so at run time
    }
    for (String ph : replacement.values()) t.infos.remove(TensorNames.of(ph, 0));
    // Tensors the cut made unreachable keep what the whole graph says.
    for (Map.Entry<String, TensorInfo> e : whole.infos.entrySet()) t.infos.putIfAbsent(e.getKey(), e.getValue());
    t.infos.putAll(cutInfo);
    return t;
  }

  /**
   * The graph with each cut tensor's consumers reading a new Placeholder of its info instead;
   * replacement receives tensor -> placeholder name.
   */
  private static GraphDef cut(GraphDef graph, Map<String, TensorInfo> cuts, Map<String, String> replacement) {
    GraphDef.Builder b = graph.toBuilder();
    java.util.Set<String> names = new java.util.HashSet<>();
    for (NodeDef n : graph.getNodeList()) names.add(n.getName());
    int k = 0;
    for (Map.Entry<String, TensorInfo> e : cuts.entrySet()) {
      String ph;
      do {
        ph = "tftrt_cut_" + k++; // TensorFlow refuses node names that begin with "_"
      } while (names.contains(ph));
      replacement.put(e.getKey(), ph);
      long[] dims = e.getValue().dims();
      AttrValue shape;
      if (dims == null) {
        shape = AttrValue.newBuilder().setShape(TensorShapeProto.newBuilder().setUnknownRank(true)).build();
      } else {
        TensorShapeProto.Builder sp = TensorShapeProto.newBuilder();
        for (long d : dims) sp.addDimBuilder().setSize(d);
        shape = AttrValue.newBuilder().setShape(sp).build();
      }
      b.addNode(NodeDef.newBuilder().setName(ph).setOp("Placeholder")
          .putAttr("dtype", AttrValue.newBuilder().setType(e.getValue().dtype()).build())
          .putAttr("shape", shape));
    }
    for (int i = 0; i < graph.getNodeCount(); i++) {
      NodeDef n = graph.getNode(i);
      NodeDef.Builder nb = null;
      for (int j = 0; j < n.getInputCount(); j++) {
        String in = n.getInput(j);
        if (TensorNames.isControl(in)) continue;
        String r = replacement.get(TensorNames.canonical(in));
        if (r == null) continue;
        if (nb == null) nb = n.toBuilder();
        nb.setInput(j, r);
      }
      if (nb != null) b.setNode(i, nb);
    }
    return b.build();
  }

  /**
   * Shapes TensorFlow leaves unknown in TF1 while loops, proved. TensorFlow's {@code Enter}
   * forgets a loop variable's shape (it may change between iterations), so everything a loop
   * computes from it, and its {@code Exit}, is unknown: the LSTM's final state feeds a dense
   * layer of unknown size. For each {@code Merge(Enter(x), NextIteration(y))} with x of known
   * rank, the hypothesis is that the variable keeps x's shape (its known dimensions; -1 stays
   * unknown, and so may change); the loop is inferred again with every Merge cut to its
   * hypothesis, and a hypothesis holds when y comes out with exactly that shape (by induction
   * over iterations: TensorFlow's inference from a shape holds for every value of that shape).
   * Those that fail are dropped and the rest checked again, until all that are left hold; only
   * then are their shapes used. (A scalar variable,
   * such as a loop's counter, stays unknown in graphs older than version 21: TensorFlow reads a
   * scalar Placeholder there as one of unknown shape, so the cut proves nothing.)
   */
  private void refineLoops(GraphDef graph, Map<String, long[]> placeholderShapes) {
    Map<String, NodeDef> byName = new HashMap<>();
    for (NodeDef n : graph.getNodeList()) byName.put(n.getName(), n);
    Map<String, TensorInfo> hypothesis = new java.util.LinkedHashMap<>();
    Map<String, String> next = new HashMap<>(); // Merge:0 -> what its NextIteration passes back
    for (NodeDef m : graph.getNodeList()) {
      if (!m.getOp().equals("Merge") || m.getInputList().stream().filter(i -> !TensorNames.isControl(i)).count() != 2) continue;
      NodeDef a = byName.get(TensorNames.node(m.getInput(0)));
      NodeDef b = byName.get(TensorNames.node(m.getInput(1)));
      if (a == null || b == null) continue; // data inputs come first: 0 and 1 are the two
      if (a.getOp().equals("NextIteration")) {
        NodeDef t = a;
        a = b;
        b = t;
      }
      if (!a.getOp().equals("Enter") || !b.getOp().equals("NextIteration") || b.getInputCount() < 1) continue;
      String merged = TensorNames.of(m.getName(), 0);
      TensorInfo entered = get(a.getInput(0));
      TensorInfo known = get(merged);
      if (!entered.hasRank() || known.isFullyKnown() || known.equals(entered)) continue;
      hypothesis.put(merged, entered);
      next.put(merged, TensorNames.canonical(b.getInput(0)));
    }
    Map<String, TensorInfo> facts = tensorArrayReads(graph, byName);
    while (!hypothesis.isEmpty() || !facts.isEmpty()) {
      Map<String, TensorInfo> cuts = new java.util.LinkedHashMap<>(facts);
      cuts.putAll(hypothesis);
      Map<String, String> replacement = new HashMap<>();
      TensorInfoTable t;
      try {
        t = infer(cut(graph, cuts, replacement), placeholderShapes);
      } catch (TftrtException e) {
        return; // TensorFlow refuses the hypotheses together: keep what it inferred itself
      }
      // What the NextIteration passes back, as inferred (or as assumed, where it is itself cut).
      if (hypothesis.entrySet().removeIf(h -> !cuts.getOrDefault(next.get(h.getKey()), t.get(next.get(h.getKey())))
          .equals(h.getValue()))) continue;
      for (String ph : replacement.values()) t.infos.remove(TensorNames.of(ph, 0));
      infos.putAll(t.infos);
      infos.putAll(cuts);
      return;
    }
  }

  /**
   * The element shape of each {@code TensorArrayReadV3} of an array whose one writer is a
   * {@code TensorArrayScatterV3} of a known value (a TF1 RNN's input, unstacked by time): every
   * element is a slice of that value. TensorFlow's own inference leaves these reads unknown, and
   * with them all of an RNN cell.
   */
  private Map<String, TensorInfo> tensorArrayReads(GraphDef graph, Map<String, NodeDef> byName) {
    Map<String, List<NodeDef>> users = new HashMap<>(); // TensorArrayV3 -> ops taking its handle
    java.util.Set<String> escaped = new java.util.HashSet<>(); // arrays whose handle reaches any other op
    for (NodeDef n : graph.getNodeList()) {
      for (String in : n.getInputList()) {
        if (TensorNames.isControl(in)) continue;
        NodeDef array = arrayOf(in, byName);
        if (array == null) continue;
        if (n.getOp().startsWith("TensorArray") && in.equals(n.getInput(0))) {
          users.computeIfAbsent(array.getName(), k -> new java.util.ArrayList<>()).add(n);
        } else if (!n.getOp().equals("Enter") && !n.getOp().equals("Identity")) {
          escaped.add(array.getName()); // through a Switch, a Merge, ...: a writer there would be missed
        }
      }
    }
    users.keySet().removeAll(escaped);
    Map<String, TensorInfo> reads = new HashMap<>();
    for (Map.Entry<String, List<NodeDef>> e : users.entrySet()) {
      List<NodeDef> writers = e.getValue().stream().filter(n -> WRITERS.contains(n.getOp())).toList();
      if (writers.size() != 1 || !writers.get(0).getOp().equals("TensorArrayScatterV3")) continue;
      TensorInfo value = get(writers.get(0).getInput(2));
      if (!value.hasRank() || value.rank() < 1) continue;
      long[] element = java.util.Arrays.copyOfRange(value.dims(), 1, value.rank());
      TensorInfo info = new TensorInfo(value.dtype(), element);
      if (!info.isFullyKnown()) continue;
      for (NodeDef r : e.getValue()) {
        if (r.getOp().equals("TensorArrayReadV3") && !get(TensorNames.of(r.getName(), 0)).isFullyKnown()) {
          reads.put(TensorNames.of(r.getName(), 0), info);
        }
      }
    }
    return reads;
  }

  private static final java.util.Set<String> WRITERS = java.util.Set.of("TensorArrayWriteV3",
      "TensorArrayScatterV3", "TensorArraySplitV3");

  /** The TensorArrayV3 a handle comes from, through Enter and Identity; null when it is not plain. */
  private static NodeDef arrayOf(String handle, Map<String, NodeDef> byName) {
    NodeDef n = byName.get(TensorNames.node(handle));
    for (int hops = 0; n != null && hops < 64; hops++) {
      if (n.getOp().equals("TensorArrayV3")) return TensorNames.index(handle) == 0 ? n : null;
      if (!n.getOp().equals("Enter") && !n.getOp().equals("Identity") || n.getInputCount() < 1) return null;
      handle = n.getInput(0);
      n = byName.get(TensorNames.node(handle));
    }
    return null;
  }

  private static long[] dims(Shape s) {
    if (s.isUnknown()) return null;
    long[] d = new long[s.numDimensions()];
    for (int i = 0; i < d.length; i++) d[i] = s.get(i) < 0 ? -1 : s.get(i);
    return d;
  }

  private static String firstLine(String s) {
    if (s == null) return "unknown error.";
    String l = s.strip().split("\n", 2)[0];
    return l.endsWith(".") ? l : l + ".";
  }

  /** Info of a tensor ("node:i" or "node"), or an unknown-rank placeholder when not known. */
  public TensorInfo get(String tensor) {
    TensorInfo i = infos.get(TensorNames.canonical(tensor));
    return i != null ? i : TensorInfo.unknown(DataType.DT_INVALID);
  }

  public boolean contains(String tensor) {
    return infos.containsKey(TensorNames.canonical(tensor));
  }
}
