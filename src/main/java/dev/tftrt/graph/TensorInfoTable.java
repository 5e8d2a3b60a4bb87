package dev.tftrt.graph;

import dev.tftrt.model.GraphChecks;
import dev.tftrt.model.TensorNames;
import dev.tftrt.TftrtException;
import java.util.HashMap;
import java.util.Iterator;
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
    Map<String, String> replacement = new HashMap<>();
    GraphDef.Builder b = graph.toBuilder();
    java.util.Set<String> names = new java.util.HashSet<>();
    for (NodeDef n : graph.getNodeList()) names.add(n.getName());
    int k = 0;
    Map<String, TensorInfo> cutInfo = new HashMap<>();
    for (Map.Entry<String, long[]> e : cuts.entrySet()) {
      TensorInfo inferred = whole.get(e.getKey());
      long[] dims = e.getValue() != null ? e.getValue() : inferred.dims();
      cutInfo.put(e.getKey(), new TensorInfo(inferred.dtype(), dims));
      String ph;
      do {
        ph = "_tftrt_cut_" + k++;
      } while (names.contains(ph));
      replacement.put(e.getKey(), ph);
      AttrValue shape;
      if (dims == null) {
        shape = AttrValue.newBuilder().setShape(TensorShapeProto.newBuilder().setUnknownRank(true)).build();
      } else {
        TensorShapeProto.Builder sp = TensorShapeProto.newBuilder();
        for (long d : dims) sp.addDimBuilder().setSize(d);
        shape = AttrValue.newBuilder().setShape(sp).build();
      }
      b.addNode(NodeDef.newBuilder().setName(ph).setOp("Placeholder")
          .putAttr("dtype", AttrValue.newBuilder().setType(inferred.dtype()).build())
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
    TensorInfoTable t;
    try {
      t = of(b.build(), placeholderShapes);
    } catch (TftrtException e) {
      return whole; // the cut shapes contradict the graph; TensorFlow will say so at run time
    }
    for (String ph : replacement.values()) t.infos.remove(TensorNames.of(ph, 0));
    // Tensors the cut made unreachable keep what the whole graph says.
    for (Map.Entry<String, TensorInfo> e : whole.infos.entrySet()) t.infos.putIfAbsent(e.getKey(), e.getValue());
    t.infos.putAll(cutInfo);
    return t;
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
