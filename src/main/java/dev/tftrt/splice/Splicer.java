package dev.tftrt.splice;

import dev.tftrt.model.Colocation;
import dev.tftrt.model.TensorNames;
import dev.tftrt.segment.Segment;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Replaces each segment of a graph with one engine node. Every other node is kept as it was,
 * byte for byte, except that inputs reading a segment's output now read the engine's output
 * (and control edges on a segment node now wait for the engine), and colocation constraints
 * naming a segment node are dropped. Nothing is mutated: a new
 * GraphDef is returned, with a map from each old tensor to its new name.
 *
 * <p>The engine op's shape function says only what TensorFlow's public C API can: unknown
 * shapes. So each engine output whose rank is known is read through an {@code EnsureShape}
 * node (named ENGINE/shape_K) holding the shape from the engine's {@code shapes} attribute:
 * TensorFlow's shape inference sees the static shape downstream, and a run checks it (a cheap
 * comparison of dimensions, no copy).
 */
public final class Splicer {
  private Splicer() {}

  /** A segment and the engine node that replaces it (its inputs: the segment's inputs, in order). */
  public record Replacement(Segment segment, NodeDef engine) {}

  public record Result(GraphDef graph, Map<String, String> renamed) {
    /** The tensor that now carries what the old tensor carried. */
    public String resolve(String tensor) {
      String c = TensorNames.canonical(tensor);
      return renamed.getOrDefault(c, c);
    }
  }

  public static Result splice(GraphDef g, List<Replacement> replacements) {
    Map<String, String> renamed = new LinkedHashMap<>();  // "node:i" -> "engine:k"
    Map<String, String> engineOf = new HashMap<>();      // segment node -> engine name
    Set<String> copiedConsts = new HashSet<>();
    Set<String> taken = new HashSet<>();
    for (NodeDef n : g.getNodeList()) taken.add(n.getName());
    for (Replacement r : replacements) taken.add(r.engine().getName());
    Map<String, List<NodeDef>> assertions = new HashMap<>(); // engine -> its EnsureShape nodes
    for (Replacement r : replacements) {
      List<String> outs = r.segment().outputs();
      List<NodeDef> ensures = shapeAssertions(r.engine(), taken);
      assertions.put(r.engine().getName(), ensures);
      for (int k = 0; k < outs.size(); k++) {
        NodeDef ensure = k < ensures.size() ? ensures.get(k) : null;
        renamed.put(outs.get(k), ensure != null ? ensure.getName() + ":0" : r.engine().getName() + ":" + k);
      }
      for (String n : r.segment().nodes()) engineOf.put(n, r.engine().getName());
    }
    // Constants are copied into segments, not moved: keep those that something outside still reads.
    Set<String> readOutside = new HashSet<>();
    for (NodeDef n : g.getNodeList()) {
      if (engineOf.containsKey(n.getName())) continue;
      for (String in : n.getInputList()) readOutside.add(TensorNames.node(in));
    }
    for (NodeDef n : g.getNodeList()) {
      if (n.getOp().equals("Const") && engineOf.containsKey(n.getName()) && readOutside.contains(n.getName())) {
        copiedConsts.add(n.getName());
      }
    }

    // Control inputs that segment nodes had from outside move to the engine.
    Map<String, Set<String>> engineControls = new HashMap<>();
    for (NodeDef n : g.getNodeList()) {
      String e = engineOf.get(n.getName());
      if (e == null || copiedConsts.contains(n.getName())) continue;
      for (String in : n.getInputList()) {
        if (!TensorNames.isControl(in)) continue;
        String src = in.substring(1);
        String target = engineOf.containsKey(src) && !copiedConsts.contains(src) ? "^" + engineOf.get(src) : in;
        if (!target.equals("^" + e)) engineControls.computeIfAbsent(e, k -> new LinkedHashSet<>()).add(target);
      }
    }

    GraphDef.Builder out = g.toBuilder().clearNode();
    Set<String> emitted = new HashSet<>();
    for (NodeDef n : g.getNodeList()) {
      String e = engineOf.get(n.getName());
      if (e != null && !copiedConsts.contains(n.getName())) {
        // The engine takes the place of its segment's first node.
        if (emitted.add(e)) {
          for (Replacement r : replacements) {
            if (r.engine().getName().equals(e)) {
              NodeDef.Builder eb = r.engine().toBuilder().clearInput();
              for (String in : r.engine().getInputList()) eb.addInput(rewire(in, renamed, engineOf, copiedConsts));
              eb.addAllInput(engineControls.getOrDefault(e, Set.of()));
              out.addNode(eb);
              for (NodeDef ensure : assertions.get(e)) if (ensure != null) out.addNode(ensure);
            }
          }
        }
        continue;
      }
      boolean touches = false;
      for (String in : n.getInputList()) {
        if (engineOf.containsKey(TensorNames.node(in)) && !copiedConsts.contains(TensorNames.node(in))) touches = true;
      }
      if (!touches) {
        out.addNode(n);
        continue;
      }
      NodeDef.Builder b = n.toBuilder().clearInput();
      Set<String> seenControl = new HashSet<>();
      for (String in : n.getInputList()) {
        String r = rewire(in, renamed, engineOf, copiedConsts);
        if (TensorNames.isControl(r) && !seenControl.add(r)) continue;
        b.addInput(r);
      }
      out.addNode(b);
    }
    // Nodes colocated with a segment's nodes are now colocated with nothing.
    return new Result(Colocation.keepTrue(out.build()), renamed);
  }

  /**
   * One EnsureShape per engine output of known rank (null where the rank is unknown), from the
   * engine node's Tout and shapes attributes.
   */
  private static List<NodeDef> shapeAssertions(NodeDef engine, Set<String> taken) {
    List<NodeDef> out = new java.util.ArrayList<>();
    AttrValue shapes = engine.getAttrMap().get("shapes");
    AttrValue types = engine.getAttrMap().get("Tout");
    if (shapes == null || types == null) return out;
    int n = Math.min(shapes.getList().getShapeCount(), types.getList().getTypeCount());
    for (int k = 0; k < n; k++) {
      org.tensorflow.proto.TensorShapeProto shape = shapes.getList().getShape(k);
      if (shape.getUnknownRank()) {
        out.add(null);
        continue;
      }
      String name = engine.getName() + "/shape_" + k;
      for (int i = 1; taken.contains(name); i++) name = engine.getName() + "/shape_" + k + "_" + i;
      taken.add(name);
      NodeDef.Builder b = NodeDef.newBuilder().setName(name).setOp("EnsureShape")
          .addInput(k == 0 ? engine.getName() : engine.getName() + ":" + k)
          .putAttr("shape", AttrValue.newBuilder().setShape(shape).build())
          .putAttr("T", AttrValue.newBuilder().setType(types.getList().getType(k)).build());
      if (!engine.getDevice().isEmpty()) b.setDevice(engine.getDevice());
      out.add(b.build());
    }
    return out;
  }

  private static String rewire(String in, Map<String, String> renamed, Map<String, String> engineOf,
      Set<String> copiedConsts) {
    String src = TensorNames.node(in);
    if (!engineOf.containsKey(src) || copiedConsts.contains(src)) return in;
    if (TensorNames.isControl(in)) return "^" + engineOf.get(src);
    String r = renamed.get(TensorNames.canonical(in));
    if (r == null) {
      throw new IllegalStateException("tensor " + in + " is read outside its segment but is not one of its outputs");
    }
    return TensorNames.edge(TensorNames.node(r), TensorNames.index(r));
  }

  /**
   * The segment as a graph of its own, for the TensorFlow fallback backend: its nodes as they
   * were, its inputs fed by Placeholders named tftrt_input_0, 1, ... and its outputs read by
   * Identity nodes named tftrt_output_0, 1, ..., both in the segment's order.
   */
  public static GraphDef segmentGraph(GraphDef g, Segment s, List<DataType> inputTypes,
      List<DataType> outputTypes) {
    Map<String, String> feed = new HashMap<>();
    GraphDef.Builder b = GraphDef.newBuilder().setVersions(g.getVersions()).setLibrary(g.getLibrary());
    for (int i = 0; i < s.inputs().size(); i++) {
      String name = "tftrt_input_" + i;
      feed.put(s.inputs().get(i), name);
      b.addNode(NodeDef.newBuilder().setName(name).setOp("Placeholder")
          .putAttr("dtype", AttrValue.newBuilder().setType(inputTypes.get(i)).build()));
    }
    Set<String> members = new HashSet<>(s.nodes());
    Map<String, NodeDef> byName = new HashMap<>();
    for (NodeDef n : g.getNodeList()) byName.put(n.getName(), n);
    for (String name : s.nodes()) {
      NodeDef n = byName.get(name);
      NodeDef.Builder nb = n.toBuilder().clearInput();
      for (String in : n.getInputList()) {
        if (TensorNames.isControl(in)) {
          if (members.contains(in.substring(1))) nb.addInput(in);
          continue;
        }
        String f = feed.get(TensorNames.canonical(in));
        nb.addInput(f != null ? f : in);
      }
      b.addNode(nb);
    }
    for (int i = 0; i < s.outputs().size(); i++) {
      String t = s.outputs().get(i);
      b.addNode(NodeDef.newBuilder().setName("tftrt_output_" + i).setOp("Identity")
          .addInput(TensorNames.edge(TensorNames.node(t), TensorNames.index(t)))
          .putAttr("T", AttrValue.newBuilder().setType(outputTypes.get(i)).build()));
    }
    return Colocation.keepTrue(b.build());
  }
}
