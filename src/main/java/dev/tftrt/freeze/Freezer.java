package dev.tftrt.freeze;

import dev.tftrt.TftrtException;
import dev.tftrt.model.Colocation;
import dev.tftrt.model.OpDefs;
import dev.tftrt.model.TensorNames;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.TensorProtos;
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
import org.tensorflow.GraphOperation;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.TensorProto;

/**
 * Turns a loaded model into a self-contained inference graph: function calls inlined,
 * variables replaced by constants holding their restored values, everything the outputs do not
 * need (training, saving, initialisers) removed.
 */
public final class Freezer {
  private Freezer() {}

  public static FreezeResult freeze(TfModel model) {
    GraphDef g = model.graphDef();
    int before = g.getNodeCount();
    List<TensorSpec> inputs = new ArrayList<>(model.inputs());
    List<TensorSpec> outputs = model.outputs();
    if (outputs.isEmpty()) throw new TftrtException(model.path() + " has no outputs to freeze.");

    Set<String> outNodes = new LinkedHashSet<>();
    for (TensorSpec s : outputs) outNodes.add(TensorNames.node(s.tensor()));
    FunctionInliner inliner = new FunctionInliner(g);
    g = inliner.inline(g, outNodes);

    Map<String, NodeDef> nodes = new LinkedHashMap<>();
    for (NodeDef n : g.getNodeList()) nodes.put(n.getName(), n);
    cutAtInputs(nodes, inputs);
    bindToConstants(nodes, model.bound());

    Set<String> roots = new LinkedHashSet<>(outNodes);
    for (TensorSpec s : inputs) roots.add(TensorNames.node(s.tensor()));
    prune(nodes, roots);
    VariableReads frozen = freezeVariables(nodes, model);
    dropMeaninglessControlEdges(nodes);
    prune(nodes, roots);

    GraphDef.Builder out = g.toBuilder().clearNode();
    for (NodeDef n : nodes.values()) out.addNode(n.toBuilder().clearDevice());
    out.setLibrary(usedFunctions(nodes.values(), g));
    GraphDef frozenGraph = Colocation.keepTrue(out.build());
    // Removed counts what was there once calls were inlined, so it is never negative.
    return new FreezeResult(frozenGraph, inputs, outputs, before, frozen.variables(), inliner.inlinedCount(),
        before + inliner.nodesAdded() - frozenGraph.getNodeCount(), frozen.runs());
  }

  /**
   * The graph with the user's input shapes (by input key, tensor or node name) set on its
   * Placeholders, so shape inference and constant folding can use them.
   */
  public static GraphDef withInputShapes(GraphDef g, List<TensorSpec> inputs, Map<String, long[]> shapes) {
    if (shapes.isEmpty()) return g;
    dev.tftrt.runtime.Feeds.checkShapeNames(inputs, shapes, "the model");
    Map<String, long[]> byNode = new HashMap<>();
    for (TensorSpec in : inputs) {
      for (String k : List.of(in.key(), in.tensor(), TensorNames.node(in.tensor()))) {
        if (shapes.containsKey(k)) byNode.put(TensorNames.node(in.tensor()), shapes.get(k));
      }
    }
    GraphDef.Builder b = g.toBuilder();
    for (int i = 0; i < b.getNodeCount(); i++) {
      NodeDef n = b.getNode(i);
      long[] s = byNode.get(n.getName());
      if (s != null && n.getOp().equals("Placeholder")) {
        b.setNode(i, n.toBuilder().putAttr("shape", AttrValue.newBuilder().setShape(TensorProtos.shape(s)).build()));
      }
    }
    return b.build();
  }

  /** Inputs bound with --set become constants, so the optimizer folds what depends only on them. */
  private static void bindToConstants(Map<String, NodeDef> nodes, Map<String, HostTensor> bound) {
    for (Map.Entry<String, HostTensor> e : bound.entrySet()) {
      String node = TensorNames.node(e.getKey());
      if (!nodes.containsKey(node)) continue; // inside a function body not on the outputs' path
      nodes.put(node, NodeDef.newBuilder().setName(node).setOp("Const")
          .putAttr("dtype", AttrValue.newBuilder().setType(e.getValue().dtype()).build())
          .putAttr("value", AttrValue.newBuilder().setTensor(TensorProtos.fromHost(e.getValue())).build())
          .build());
    }
  }

  /**
   * A signature input that is not a Placeholder (TF1 models often feed an Identity after their
   * parsing ops) becomes one, so what feeds it in the original is not kept.
   */
  private static void cutAtInputs(Map<String, NodeDef> nodes, List<TensorSpec> inputs) {
    for (int i = 0; i < inputs.size(); i++) {
      TensorSpec s = inputs.get(i);
      String node = TensorNames.node(s.tensor());
      NodeDef n = nodes.get(node);
      if (n == null) throw new TftrtException("input tensor '" + s.tensor() + "' is not in the graph.");
      if (n.getOp().equals("Placeholder")) continue;
      NodeDef.Builder ph = NodeDef.newBuilder().setOp("Placeholder")
          .putAttr("dtype", AttrValue.newBuilder().setType(s.dtype()).build());
      if (s.shape() != null) {
        ph.putAttr("shape", AttrValue.newBuilder().setShape(TensorProtos.shape(s.shape())).build());
      }
      if (TensorNames.index(s.tensor()) == 0 && !otherOutputsRead(nodes, node)) {
        nodes.put(node, ph.setName(node).build());
        continue;
      }
      // A later output of a multi-output node: feed a new Placeholder and rewire its readers.
      String name = node + "_" + TensorNames.index(s.tensor()) + "_input";
      while (nodes.containsKey(name)) name = name + "_";
      String edge = TensorNames.edge(node, TensorNames.index(s.tensor()));
      for (NodeDef c : new ArrayList<>(nodes.values())) {
        if (c.getInputList().contains(edge) || (TensorNames.index(s.tensor()) == 0
            && c.getInputList().contains(node + ":0"))) {
          NodeDef.Builder cb = c.toBuilder().clearInput();
          for (String in : c.getInputList()) {
            boolean same = in.equals(edge) || (TensorNames.index(s.tensor()) == 0 && in.equals(node + ":0"));
            cb.addInput(same ? name : in);
          }
          nodes.put(c.getName(), cb.build());
        }
      }
      nodes.put(name, ph.setName(name).build());
      inputs.set(i, new TensorSpec(s.key(), name + ":0", s.dtype(), s.shape()));
    }
  }

  /** Whether any node reads an output of this node other than output 0. */
  private static boolean otherOutputsRead(Map<String, NodeDef> nodes, String node) {
    for (NodeDef c : nodes.values()) {
      for (String in : c.getInputList()) {
        if (!TensorNames.isControl(in) && TensorNames.node(in).equals(node) && TensorNames.index(in) > 0) return true;
      }
    }
    return false;
  }

  /** Keeps only the nodes the roots depend on; order is kept. */
  static void prune(Map<String, NodeDef> nodes, Set<String> roots) {
    Set<String> keep = FunctionInliner.reachable(nodes, roots);
    nodes.keySet().retainAll(keep);
  }

  /** How many variables were frozen, and in how many session runs their values were read. */
  private record VariableReads(int variables, int runs) {}

  /**
   * Replaces each variable (and each reader of a resource variable) by a constant. All values
   * are read in one session run: every run after the graph changes makes TensorFlow prepare the
   * whole graph again, so one run per variable costs variables x graph size.
   */
  private static VariableReads freezeVariables(Map<String, NodeDef> nodes, TfModel model) {
    Map<String, List<NodeDef>> consumers = new HashMap<>();
    for (NodeDef n : nodes.values()) {
      for (String in : n.getInputList()) {
        if (!TensorNames.isControl(in)) {
          consumers.computeIfAbsent(TensorNames.node(in), k -> new ArrayList<>()).add(n);
        }
      }
    }
    Map<String, String> toRead = new LinkedHashMap<>(); // variable -> tensor holding its value
    for (NodeDef v : nodes.values()) {
      if (v.getOp().equals("VariableV2") || v.getOp().equals("Variable")) {
        checkRefReaders(v, consumers.getOrDefault(v.getName(), List.of()));
        toRead.put(v.getName(), v.getName() + ":0");
      } else if (v.getOp().equals("VarHandleOp") && consumers.containsKey(v.getName())) {
        toRead.put(v.getName(), readOp(model, v));
      }
    }
    int[] runs = {0};
    Map<String, HostTensor> values = fetchAll(model, toRead, runs);
    for (Map.Entry<String, HostTensor> e : values.entrySet()) {
      NodeDef v = nodes.get(e.getKey());
      if (v.getOp().equals("VarHandleOp")) {
        for (NodeDef c : consumers.get(v.getName())) {
          nodes.put(c.getName(), replaceResourceReader(c, v, e.getValue(), nodes));
        }
      } else {
        nodes.put(v.getName(), constNode(v.getName(), e.getValue()));
      }
    }
    return new VariableReads(values.size(), runs[0]);
  }

  /** Ops that write to a ref variable cannot remain once it is a constant. */
  private static void checkRefReaders(NodeDef var, List<NodeDef> readers) {
    for (NodeDef c : readers) {
      OpDef def = OpDefs.get(c.getOp());
      if (def == null) continue;
      int idx = 0;
      for (String in : c.getInputList()) {
        if (TensorNames.isControl(in)) continue;
        if (TensorNames.node(in).equals(var.getName())) {
          OpDef.ArgDef arg = OpDefs.inputArgAt(c, def, idx);
          if (arg != null && arg.getIsRef()) {
            throw new TftrtException("node '" + c.getName() + "' (" + c.getOp() + ") writes to variable '"
                + var.getName() + "', so the graph cannot be frozen with these outputs.");
          }
        }
        idx++;
      }
    }
  }

  private static NodeDef replaceResourceReader(NodeDef c, NodeDef var, HostTensor value,
      Map<String, NodeDef> nodes) {
    switch (c.getOp()) {
      case "ReadVariableOp":
        return constNode(c.getName(), value);
      case "VariableShape": {
        DataType t = c.getAttrMap().containsKey("out_type") ? c.getAttrMap().get("out_type").getType() : DataType.DT_INT32;
        long[] shape = value.shape();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(shape.length * DTypes.byteSize(t))
            .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < shape.length; i++) HostTensor.putDouble(b, i, t, shape[i]);
        return constNode(c.getName(), HostTensor.of(t, new long[] {shape.length}, b));
      }
      case "ResourceGather": {
        // gather(params=value, indices, axis=0) with the same batch_dims.
        String params = c.getName() + "/params";
        String axis = c.getName() + "/axis";
        nodes.put(params, constNode(params, value));
        nodes.put(axis, constNode(axis, HostTensor.ofInts(new long[0], 0)));
        NodeDef.Builder gb = NodeDef.newBuilder().setName(c.getName()).setOp("GatherV2")
            .addInput(params).addInput(c.getInput(1)).addInput(axis)
            .putAttr("Tparams", AttrValue.newBuilder().setType(value.dtype()).build())
            .putAttr("Tindices", c.getAttrMap().get("Tindices"))
            .putAttr("Taxis", AttrValue.newBuilder().setType(DataType.DT_INT32).build());
        if (c.getAttrMap().containsKey("batch_dims")) gb.putAttr("batch_dims", c.getAttrMap().get("batch_dims"));
        for (int i = 2; i < c.getInputCount(); i++) gb.addInput(c.getInput(i));
        return gb.build();
      }
      case "VarIsInitializedOp":
        return constNode(c.getName(), HostTensor.scalarOf(DataType.DT_BOOL, 1));
      default:
        throw new TftrtException("variable '" + var.getName() + "' is used by node '" + c.getName() + "' ("
            + c.getOp() + "), which tftrt cannot freeze.");
    }
  }

  /** A ReadVariableOp of the variable added to the loaded graph (once); returns its tensor. */
  private static String readOp(TfModel model, NodeDef var) {
    DataType dt = var.getAttrMap().get("dtype").getType();
    String name = "tftrt_freeze/read/" + var.getName();
    if (model.graph().operation(name) == null) {
      GraphOperation handle = model.graph().operation(var.getName());
      if (handle == null) {
        throw new TftrtException("variable '" + var.getName() + "' is not in the loaded graph.");
      }
      model.graph().opBuilder("ReadVariableOp", name, model.graph().baseScope())
          .addInput(handle.output(0)).setAttr("dtype", dt).build();
    }
    return name + ":0";
  }

  /** Every variable's value, in one run; if that fails, the first variable that cannot be read is named. */
  private static Map<String, HostTensor> fetchAll(TfModel model, Map<String, String> tensors, int[] runs) {
    Map<String, HostTensor> values = new LinkedHashMap<>();
    if (tensors.isEmpty()) return values;
    runs[0]++;
    try (Result r = fetching(model.session().runner(), tensors.values()).run()) {
      int i = 0;
      for (String v : tensors.keySet()) values.put(v, HostTensor.fromTensor(r.get(i++)));
      return values;
    } catch (TensorFlowException | IllegalArgumentException e) {
      // Rare: find which one, so the sentence names it.
      for (Map.Entry<String, String> t : tensors.entrySet()) fetch(model, t.getValue(), t.getKey());
      String m = e.getMessage() == null ? e.toString() : e.getMessage().strip().split("\n")[0];
      throw new TftrtException("the model's variables could not be read (are they restored?): " + m, e);
    }
  }

  private static Session.Runner fetching(Session.Runner runner, Iterable<String> tensors) {
    for (String t : tensors) runner.fetch(t);
    return runner;
  }

  private static HostTensor fetch(TfModel model, String tensor, String variable) {
    try (Result r = model.session().runner().fetch(tensor).run()) {
      return HostTensor.fromTensor(r.get(0));
    } catch (TensorFlowException | IllegalArgumentException e) {
      String m = e.getMessage() == null ? e.toString() : e.getMessage().strip().split("\n")[0];
      throw new TftrtException("variable '" + variable + "' could not be read (is it restored?): " + m, e);
    }
  }

  private static NodeDef constNode(String name, HostTensor value) {
    TensorProto p = TensorProtos.fromHost(value);
    return NodeDef.newBuilder().setName(name).setOp("Const")
        .putAttr("dtype", AttrValue.newBuilder().setType(value.dtype()).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(p).build())
        .build();
  }

  /**
   * Control edges from a constant, or from a NoOp that waits on nothing, order nothing: after
   * freezing, the edges that sequenced variable reads are such edges. Removing them lets pruning
   * drop the NoOps that only carried them.
   */
  private static void dropMeaninglessControlEdges(Map<String, NodeDef> nodes) {
    boolean changed = true;
    while (changed) {
      changed = false;
      for (NodeDef n : new ArrayList<>(nodes.values())) {
        List<String> kept = new ArrayList<>();
        for (String in : n.getInputList()) {
          if (TensorNames.isControl(in)) {
            NodeDef src = nodes.get(in.substring(1));
            if (src != null && (src.getOp().equals("Const")
                || (src.getOp().equals("NoOp") && src.getInputCount() == 0))) {
              continue;
            }
          }
          kept.add(in);
        }
        if (kept.size() != n.getInputCount()) {
          nodes.put(n.getName(), n.toBuilder().clearInput().addAllInput(kept).build());
          changed = true;
        }
      }
    }
  }

  /** The functions still referenced by the nodes' attributes, and those they call in turn. */
  private static org.tensorflow.proto.FunctionDefLibrary usedFunctions(Iterable<NodeDef> nodes, GraphDef g) {
    Map<String, FunctionDef> lib = new HashMap<>();
    for (FunctionDef f : g.getLibrary().getFunctionList()) lib.put(f.getSignature().getName(), f);
    Set<String> used = new LinkedHashSet<>();
    Deque<NodeDef> work = new ArrayDeque<>();
    nodes.forEach(work::add);
    while (!work.isEmpty()) {
      NodeDef n = work.poll();
      Set<String> refs = new HashSet<>();
      if (lib.containsKey(n.getOp())) refs.add(n.getOp());
      for (AttrValue a : n.getAttrMap().values()) {
        if (a.hasFunc()) refs.add(a.getFunc().getName());
        for (var f : a.getList().getFuncList()) refs.add(f.getName());
      }
      for (String r : refs) {
        if (lib.containsKey(r) && used.add(r)) work.addAll(lib.get(r).getNodeDefList());
      }
    }
    org.tensorflow.proto.FunctionDefLibrary.Builder b = org.tensorflow.proto.FunctionDefLibrary.newBuilder();
    for (String u : used) b.addFunction(lib.get(u));
    for (var grad : g.getLibrary().getGradientList()) {
      if (used.contains(grad.getFunctionName())) b.addGradient(grad);
    }
    return b.build();
  }
}
