package dev.tftrt.runtime;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorNames;
import dev.tftrt.model.TensorSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Feed shapes checked against TensorFlow's shape inference before a session runs. Some
 * kernels CHECK their input's rank instead of returning an error (Conv2D fed a vector aborts
 * the whole process), and graph-level shape inference only sees the shapes a graph declares:
 * an input without a shape attribute is unknown there, so any feed passes. Importing a copy of
 * the graph with each fed tensor pinned to its feed's shape runs the same shape functions on
 * the real shapes, and a shape no op can take is refused with an error instead of an abort.
 */
public final class FeedShapes {
  private FeedShapes() {}

  /** Ops that take a tensor of one rank in their first input, so an unknown input fed to them has it. */
  private static final Map<String, Integer> RANK_OF_FIRST_INPUT = Map.ofEntries(
      Map.entry("Conv2D", 4), Map.entry("DepthwiseConv2dNative", 4), Map.entry("MaxPool", 4),
      Map.entry("AvgPool", 4), Map.entry("FusedBatchNorm", 4), Map.entry("FusedBatchNormV2", 4),
      Map.entry("FusedBatchNormV3", 4), Map.entry("ResizeBilinear", 4),
      Map.entry("ResizeNearestNeighbor", 4), Map.entry("ResizeBicubic", 4), Map.entry("DepthToSpace", 4),
      Map.entry("SpaceToDepth", 4), Map.entry("LRN", 4), Map.entry("Conv3D", 5), Map.entry("MaxPool3D", 5),
      Map.entry("AvgPool3D", 5), Map.entry("MatMul", 2), Map.entry("DecodeWav", 0),
      Map.entry("DecodeJpeg", 0), Map.entry("DecodePng", 0), Map.entry("DecodeImage", 0),
      Map.entry("ParseExample", 1), Map.entry("ParseExampleV2", 1));

  /** Ops whose output has their first input's shape: a rank found after them holds before them. */
  private static final Set<String> SAME_SHAPE = Set.of("Identity", "Relu", "Relu6", "Elu", "Selu",
      "Sigmoid", "Tanh", "Abs", "Neg", "Exp", "Log", "Sqrt", "Square", "Cast", "StopGradient",
      "CheckNumerics", "Softplus", "Floor", "Round", "Snapshot", "LeakyRelu");

  /** Elementwise ops with broadcasting: a scalar fed to them always fits. */
  private static final Set<String> BROADCASTING = Set.of("Add", "AddV2", "Sub", "Mul", "RealDiv", "Div",
      "Maximum", "Minimum", "Pow", "SquaredDifference", "FloorDiv", "FloorMod", "Greater", "GreaterEqual",
      "Less", "LessEqual", "Equal", "NotEqual", "LogicalAnd", "LogicalOr");

  /**
   * What an input without a known rank must be, judged from the ops that read it: the rank
   * those ops take (Conv2D: 4, MatMul: 2, DecodeWav: a scalar), with the channel or inner
   * dimension read from a constant filter or weight matrix and other dimensions 1; a scalar when
   * only elementwise ops read it (a dropout keep probability); null when no consumer says. Only
   * readers the outputs depend on count. The caller still checks the result with {@link #check}.
   */
  public static Implied implied(GraphDef g, TensorSpec in, List<String> outputs) {
    Map<String, NodeDef> byName = new HashMap<>();
    for (NodeDef n : g.getNodeList()) byName.put(n.getName(), n);
    // Only readers on the way to the outputs count: a training graph's gradient ops read the
    // input too, and say nothing about what inference feeds it.
    Set<String> needed = ancestors(byName, outputs);
    Map<String, List<NodeDef>> readers = readers(g, needed);
    Deque<String> todo = new ArrayDeque<>(List.of(TensorNames.canonical(in.tensor())));
    Set<String> seen = new HashSet<>();
    NodeDef elementwise = null;
    boolean other = false;
    while (!todo.isEmpty()) {
      String t = todo.poll();
      if (!seen.add(t)) continue;
      for (NodeDef r : readers.getOrDefault(t, List.of())) {
        boolean first = r.getInputCount() > 0 && TensorNames.canonical(r.getInput(0)).equals(t);
        Integer rank = first ? RANK_OF_FIRST_INPUT.get(r.getOp()) : null;
        if (rank != null) return new Implied(shape(r, rank, byName), r.getName(), r.getOp());
        if (first && SAME_SHAPE.contains(r.getOp())) {
          todo.add(r.getName() + ":0");
          if (elementwise == null) elementwise = r;
        } else if (BROADCASTING.contains(r.getOp())) {
          if (elementwise == null) elementwise = r;
        } else {
          other = true;
        }
      }
    }
    // Read only by elementwise ops (a keep probability, y = x / 2 + 2): a scalar fits them all.
    if (elementwise != null && !other) return new Implied(new long[0], elementwise.getName(), elementwise.getOp());
    return null;
  }

  private static Set<String> ancestors(Map<String, NodeDef> byName, List<String> outputs) {
    Set<String> seen = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>();
    for (String o : outputs) todo.add(TensorNames.node(o));
    while (!todo.isEmpty()) {
      String n = todo.poll();
      if (!seen.add(n) || !byName.containsKey(n)) continue;
      for (String i : byName.get(n).getInputList()) todo.add(TensorNames.node(i));
    }
    return seen;
  }

  /** A shape an input must have, and the node that says so. */
  public record Implied(long[] shape, String node, String op) {}

  private static long[] shape(NodeDef r, int rank, Map<String, NodeDef> byName) {
    long[] s = new long[rank];
    java.util.Arrays.fill(s, 1);
    boolean nchw = r.getAttrMap().containsKey("data_format")
        && r.getAttrMap().get("data_format").getS().toStringUtf8().startsWith("NC");
    switch (r.getOp()) {
      case "Conv2D", "DepthwiseConv2dNative", "Conv3D" -> {
        long[] filter = constShape(r, 1, byName);
        if (filter != null && filter.length == rank) s[nchw ? 1 : rank - 1] = filter[rank - 2];
      }
      case "MatMul" -> {
        long[] w = constShape(r, 1, byName);
        boolean ta = r.getAttrMap().containsKey("transpose_a") && r.getAttrMap().get("transpose_a").getB();
        boolean tb = r.getAttrMap().containsKey("transpose_b") && r.getAttrMap().get("transpose_b").getB();
        if (w != null && w.length == 2) s[ta ? 0 : 1] = w[tb ? 1 : 0];
      }
      default -> { }
    }
    return s;
  }

  private static long[] constShape(NodeDef r, int input, Map<String, NodeDef> byName) {
    if (r.getInputCount() <= input) return null;
    NodeDef c = byName.get(TensorNames.node(r.getInput(input)));
    if (c == null || !c.getOp().equals("Const") || !c.getAttrMap().containsKey("value")) return null;
    TensorShapeProto sp = c.getAttrMap().get("value").getTensor().getTensorShape();
    long[] d = new long[sp.getDimCount()];
    for (int i = 0; i < d.length; i++) d[i] = sp.getDim(i).getSize();
    return d;
  }

  /**
   * Refuses, with one sentence naming the inputs, feed shapes that TensorFlow's shape inference
   * rejects for graph g (the graph the session runs). {@code hint} ends the sentence: what the
   * user can do (give --shape, feed another array).
   */
  public static void check(GraphDef g, List<TensorSpec> inputs, Map<String, long[]> feedShapes,
      String model, String hint) {
    GraphDef pinned = pin(g, inputs, feedShapes);
    try (Graph graph = new Graph()) {
      try {
        graph.importGraphDef(pinned);
      } catch (IllegalArgumentException | TensorFlowException e) {
        List<String> fed = new ArrayList<>();
        for (TensorSpec in : inputs) {
          long[] s = feedShapes.get(in.key());
          if (s != null) fed.add("'" + in.key() + "' " + Feeds.dims(s));
        }
        String what = fed.size() == 1
            ? "input " + fed.get(0).substring(0, fed.get(0).indexOf(" [")) + " of " + model
                + " cannot take shape " + fed.get(0).substring(fed.get(0).indexOf(" [") + 1)
            : "the inputs of " + model + " cannot take the shapes " + String.join(", ", fed);
        throw new TftrtException(what + ": TensorFlow's shape inference rejects "
            + (fed.size() == 1 ? "it" : "them") + " (" + reason(e) + ")" + hint + ".", e);
      }
    }
  }

  /** TensorFlow's message without the node's full attribute dump: "Shape must be rank 4 ... at node 'conv1' (Conv2D)". */
  static String reason(Exception e) {
    String m = e.getMessage() == null ? e.toString() : e.getMessage().strip();
    int nl = m.indexOf('\n');
    if (nl > 0) m = m.substring(0, nl);
    java.util.regex.Matcher node = java.util.regex.Pattern
        .compile("for '\\{\\{node ([^}]+)\\}\\} = ([A-Za-z0-9_]+)").matcher(m);
    int cut = m.indexOf(" for '");
    String head = cut > 0 ? m.substring(0, cut) : m;
    while (head.endsWith(".")) head = head.substring(0, head.length() - 1);
    return node.find() ? head + " at node '" + node.group(1) + "' (" + node.group(2) + ")" : head;
  }

  /** A copy of g where every fed tensor is a Placeholder of exactly its feed's shape. */
  static GraphDef pin(GraphDef g, List<TensorSpec> inputs, Map<String, long[]> feedShapes) {
    Map<String, String> replaced = new HashMap<>(); // canonical tensor -> new placeholder
    Set<String> names = new HashSet<>();
    for (NodeDef n : g.getNodeList()) names.add(n.getName());
    // In an old graph (producer <= 21, or no versions field) a dimensionless shape attribute is
    // read as an unknown rank, so a Placeholder cannot say "scalar" there: a scalar feed is
    // pinned as a scalar Const instead, whose shape TensorFlow takes from its value.
    boolean scalarsReadAsUnknown = dimensionlessMeansUnknown(g);
    GraphDef.Builder b = g.toBuilder();
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < b.getNodeCount(); i++) index.put(b.getNode(i).getName(), i);
    int k = 0;
    for (TensorSpec in : inputs) {
      long[] s = feedShapes.get(in.key());
      if (s == null) continue;
      AttrValue shape = AttrValue.newBuilder().setShape(shapeProto(s)).build();
      String node = TensorNames.node(in.tensor());
      Integer at = index.get(node);
      if (at == null) continue;
      NodeDef n = b.getNode(at);
      boolean scalarConst = s.length == 0 && scalarsReadAsUnknown;
      if (!scalarConst && n.getOp().equals("Placeholder") && TensorNames.index(in.tensor()) == 0) {
        b.setNode(at, n.toBuilder().putAttr("shape", shape));
        continue;
      }
      String ph;
      do {
        ph = "tftrt_feed_" + k++;
      } while (names.contains(ph));
      replaced.put(TensorNames.canonical(in.tensor()), ph);
      if (scalarConst) {
        // No values: TensorFlow fills a Const's value with zeros; only its shape matters here.
        b.addNode(NodeDef.newBuilder().setName(ph).setOp("Const")
            .putAttr("dtype", AttrValue.newBuilder().setType(in.dtype()).build())
            .putAttr("value", AttrValue.newBuilder().setTensor(org.tensorflow.proto.TensorProto.newBuilder()
                .setDtype(in.dtype()).setTensorShape(TensorShapeProto.getDefaultInstance())).build()));
      } else {
        b.addNode(NodeDef.newBuilder().setName(ph).setOp("Placeholder")
            .putAttr("dtype", AttrValue.newBuilder().setType(in.dtype()).build()).putAttr("shape", shape));
      }
    }
    if (replaced.isEmpty()) return b.build();
    for (int i = 0; i < g.getNodeCount(); i++) {
      NodeDef n = b.getNode(i);
      NodeDef.Builder nb = null;
      for (int j = 0; j < n.getInputCount(); j++) {
        String ph = n.getInput(j).startsWith("^") ? null : replaced.get(TensorNames.canonical(n.getInput(j)));
        if (ph == null) continue;
        if (nb == null) nb = n.toBuilder();
        nb.setInput(j, ph);
      }
      if (nb != null) b.setNode(i, nb);
    }
    return b.build();
  }

  /**
   * A Placeholder's declared shape as TensorFlow reads it: absent, unknown_rank, or (in a graph
   * whose producer version is at most 21, which a GraphDef without a versions field is) a
   * dimensionless shape are all an unknown rank, never a scalar.
   */
  public static long[] declaredShape(NodeDef placeholder, GraphDef g) {
    AttrValue a = placeholder.getAttrMap().get("shape");
    if (a == null || !a.hasShape() || a.getShape().getUnknownRank()) return null;
    TensorShapeProto sp = a.getShape();
    if (sp.getDimCount() == 0 && dimensionlessMeansUnknown(g)) return null;
    long[] d = new long[sp.getDimCount()];
    for (int i = 0; i < d.length; i++) d[i] = sp.getDim(i).getSize() < 0 ? -1 : sp.getDim(i).getSize();
    return d;
  }

  /** Whether TensorFlow reads a shape attribute without dimensions in g as an unknown rank. */
  static boolean dimensionlessMeansUnknown(GraphDef g) {
    return g.getVersions().getProducer() <= 21;
  }

  private static TensorShapeProto shapeProto(long[] s) {
    TensorShapeProto.Builder sp = TensorShapeProto.newBuilder();
    for (long d : s) sp.addDimBuilder().setSize(d);
    return sp.build();
  }

  private static Map<String, List<NodeDef>> readers(GraphDef g, Set<String> among) {
    Map<String, List<NodeDef>> r = new HashMap<>();
    for (NodeDef n : g.getNodeList()) {
      if (!among.contains(n.getName())) continue;
      for (String in : n.getInputList()) {
        if (in.startsWith("^")) continue;
        r.computeIfAbsent(TensorNames.canonical(in), x -> new ArrayList<>()).add(n);
      }
    }
    return r;
  }
}
