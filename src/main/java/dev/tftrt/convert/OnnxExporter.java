package dev.tftrt.convert;

import dev.tftrt.convert.passes.OnnxPass;
import dev.tftrt.graph.TensorInfo;
import dev.tftrt.graph.TensorInfoTable;

import dev.tftrt.TftrtException;
import dev.tftrt.convert.UnsupportedNodesException.Unsupported;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.OperatorSetIdProto;
import dev.tftrt.convert.onnx.TensorShapeProto;
import dev.tftrt.convert.onnx.TypeProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import dev.tftrt.convert.passes.PruneUnusedPass;
import dev.tftrt.convert.passes.TransposeCancelPass;
import dev.tftrt.convert.passes.TransposePushPass;
import dev.tftrt.model.TensorNames;
import dev.tftrt.tensor.DTypes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Exports the part of a frozen TensorFlow graph between given input and output tensors as an
 * ONNX model. Every node on the way must pass its converter's validator; otherwise export fails
 * with an {@link UnsupportedNodesException} listing each node that does not convert.
 *
 * <p>Steps: collect the nodes the outputs depend on (stopping at the inputs), validate them all,
 * order them topologically, let each converter append ONNX, then run the ONNX passes.
 *
 * <p>Configure it first ({@link #opset}, {@link #inputShape}, {@link #passes}); then one exporter
 * may export any number of graphs at once from different threads: each export keeps its state
 * (the emitter, the order, the passes' indexes) in objects of its own, never in fields.
 */
public final class OnnxExporter {
  public static final int DEFAULT_OPSET = 17;
  public static final int MIN_OPSET = 13;

  private final ConverterRegistry registry;
  private int opset = DEFAULT_OPSET;
  private final Map<String, long[]> inputShapes = new LinkedHashMap<>();
  /** Immutable, replaced whole: an export reads it once, and the passes keep no state. */
  private volatile List<OnnxPass> passes =
      List.of(new TransposePushPass(), new TransposeCancelPass(), new PruneUnusedPass());

  public OnnxExporter(ConverterRegistry registry) {
    this.registry = registry;
  }

  public OnnxExporter opset(int opset) {
    if (opset < MIN_OPSET) {
      throw new TftrtException("ONNX opset " + opset + " is too old; use " + MIN_OPSET + " or later.");
    }
    this.opset = opset;
    return this;
  }

  /**
   * Fixes the shape of an input tensor (-1 for a dimension left dynamic). For a Placeholder the
   * shape also feeds TensorFlow's shape inference.
   */
  public OnnxExporter inputShape(String tensor, long... dims) {
    inputShapes.put(TensorNames.canonical(tensor), dims.clone());
    return this;
  }

  /** Replaces the ONNX passes run after conversion (none: the converters' raw output). */
  public OnnxExporter passes(List<OnnxPass> passes) {
    this.passes = List.copyOf(passes);
    return this;
  }

  public ModelProto export(GraphDef graph, List<String> inputs, List<String> outputs) {
    Map<String, NodeDef> byName = new HashMap<>();
    for (NodeDef n : graph.getNodeList()) byName.put(n.getName(), n);
    Map<String, long[]> placeholderShapes = new HashMap<>();
    for (Map.Entry<String, long[]> e : inputShapes.entrySet()) {
      NodeDef n = byName.get(TensorNames.node(e.getKey()));
      if (n != null && n.getOp().startsWith("Placeholder")) placeholderShapes.put(n.getName(), e.getValue());
    }
    // Inputs inside the graph (cuts) are inferred from as if they were placeholders.
    Map<String, long[]> cuts = new LinkedHashMap<>();
    for (String in : inputs) {
      String c = TensorNames.canonical(in.strip());
      NodeDef n = byName.get(TensorNames.node(c));
      if (n != null && !n.getOp().startsWith("Placeholder")) cuts.put(c, inputShapes.get(c));
    }
    return export(new TfGraph(graph, TensorInfoTable.ofCut(graph, placeholderShapes, cuts)), inputs, outputs);
  }

  public ModelProto export(TfGraph graph, List<String> inputList, List<String> outputList) {
    if (outputList.isEmpty()) throw new TftrtException("no output tensors were given.");
    List<String> inputs = canonical(graph, inputList, "input");
    List<String> outputs = canonical(graph, outputList, "output");
    Set<String> inputSet = new HashSet<>(inputs);

    List<String> cycles = new ArrayList<>();
    List<String> order = topologicalOrder(graph, inputSet, outputs, cycles);

    List<Unsupported> bad = new ArrayList<>();
    for (String name : order) {
      NodeView v = graph.view(name);
      Optional<String> why = v.op().startsWith("Placeholder")
          ? Optional.of("it is a graph input that is not among the given inputs.")
          : registry.validate(v);
      why.ifPresent(r -> bad.add(new Unsupported(name, v.op(), r)));
    }
    if (!bad.isEmpty()) throw new UnsupportedNodesException(bad);
    if (!cycles.isEmpty()) {
      throw new TftrtException("the graph has a cycle through node " + cycles.get(0) + " between the given inputs and outputs.");
    }

    OnnxEmitter out = new OnnxEmitter(graph, opset);
    out.scope(new HashSet<>(order), new HashSet<>(outputs));
    GraphProto.Builder g = GraphProto.newBuilder().setName("tftrt");
    for (String in : inputs) {
      TensorInfo info = graph.info(in);
      DataType dt = DTypes.base(info.dtype());
      if (dt == DataType.DT_INVALID) {
        throw new TftrtException("the dtype of input " + in + " is unknown.");
      }
      long[] dims = inputShapes.containsKey(in) ? inputShapes.get(in) : info.dims();
      out.bind(in, in);
      g.addInput(valueInfo(in, dt, dims, TensorNames.node(in).replace('/', '_')));
    }
    for (String name : order) {
      NodeView v = graph.view(name);
      if (isConstantNode(graph, v)) continue; // written lazily where used as a value
      OpConverter c = registry.converter(v.op()).orElseThrow();
      int first = out.nodes().size();
      try {
        c.convert(v, out);
        // Each ONNX node names the TensorFlow node it came from, so --keep-fp32 and inspect speak TF names.
        for (int k = first; k < out.nodes().size(); k++) {
          out.nodes().set(k, out.nodes().get(k).toBuilder().setDocString(name).build());
        }
      } catch (TftrtException e) {
        throw new TftrtException("node " + name + " (" + v.op() + ") failed to convert: "
            + e.getMessage(), e);
      } catch (RuntimeException e) {
        throw new IllegalStateException("converter for " + v.op() + " failed on node " + name, e);
      }
    }
    for (String o : outputs) {
      if (!out.isBound(o) && graph.constant(TensorNames.canonical(o)).isEmpty()) {
        throw new UnproducedOutputException(o, graph.view(TensorNames.node(o)).op());
      }
      String value = out.value(o);
      if (!value.equals(o)) out.node("Identity").in(value).out(o).emit();
      TensorInfo info = graph.info(o);
      g.addOutput(valueInfo(o, DTypes.base(info.dtype()), info.dims(), null));
    }
    out.writeTo(g);
    GraphProto result = g.build();
    for (OnnxPass p : passes) result = p.apply(result);

    return ModelProto.newBuilder()
        .setIrVersion(irVersion(opset))
        .setProducerName("tftrt")
        .setProducerVersion("0.1")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
        .setGraph(result)
        .build();
  }

  /** The number of Transpose nodes in a model: layout changes left after the passes. */
  public static int countTransposes(ModelProto model) {
    return TransposePushPass.count(model);
  }

  /** The newest IR version that runtimes reading this opset are sure to know. */
  static int irVersion(int opset) {
    if (opset <= 18) return 8;
    if (opset <= 20) return 9;
    return 10;
  }

  private static boolean isConstantNode(TfGraph graph, NodeView v) {
    return v.op().equals("Const") || (v.numInputs() == 1 && (v.op().equals("Identity")
        || v.op().equals("Snapshot") || v.op().equals("StopGradient")) && v.isConstant(0));
  }

  private static List<String> canonical(TfGraph graph, List<String> names, String what) {
    List<String> r = new ArrayList<>();
    for (String n : names) {
      String c = TensorNames.canonical(n.strip());
      if (!graph.contains(TensorNames.node(c))) {
        throw new TftrtException("the " + what + " tensor " + n + " names no node of the graph.");
      }
      if (!graph.infos().contains(c)) {
        throw new TftrtException("the " + what + " tensor " + n + " does not exist: node "
            + TensorNames.node(c) + " has no output " + TensorNames.index(c) + ".");
      }
      if (!r.contains(c)) r.add(c);
    }
    return r;
  }

  /**
   * The nodes the outputs depend on through data edges, stopping at the input tensors, in an
   * order where every node comes after its producers. Iterative, so deep graphs are fine.
   */
  static List<String> topologicalOrder(TfGraph graph, Set<String> inputs, List<String> outputs) {
    List<String> cycles = new ArrayList<>();
    List<String> order = topologicalOrder(graph, inputs, outputs, cycles);
    if (!cycles.isEmpty()) {
      throw new TftrtException("the graph has a cycle through node " + cycles.get(0) + " between the given inputs and outputs.");
    }
    return order;
  }

  /**
   * As above, but a cycle (a TensorFlow while loop) does not stop the walk: each node closing
   * one is added to cycles, so the loop's nodes can still be validated and listed.
   */
  static List<String> topologicalOrder(TfGraph graph, Set<String> inputs, List<String> outputs,
      List<String> cycles) {
    List<String> order = new ArrayList<>();
    Set<String> done = new HashSet<>();
    Set<String> onStack = new HashSet<>();
    Deque<String[]> stack = new ArrayDeque<>(); // {node, "0"/"1"} 1 = children pushed
    Set<String> roots = new LinkedHashSet<>();
    for (String o : outputs) if (!inputs.contains(o)) roots.add(TensorNames.node(o));
    for (String root : roots) {
      stack.push(new String[] {root, "0"});
      while (!stack.isEmpty()) {
        String[] top = stack.peek();
        String name = top[0];
        if (done.contains(name)) {
          stack.pop();
          continue;
        }
        NodeDef n = graph.node(name);
        if (n == null) throw new TftrtException("node " + name + " is used but not defined in the graph.");
        if (top[1].equals("1")) {
          stack.pop();
          onStack.remove(name);
          done.add(name);
          order.add(name);
          continue;
        }
        top[1] = "1";
        onStack.add(name);
        for (String in : n.getInputList()) {
          if (TensorNames.isControl(in)) continue;
          String t = TensorNames.canonical(in);
          if (inputs.contains(t)) continue;
          String p = TensorNames.node(t);
          if (done.contains(p)) continue;
          if (onStack.contains(p)) {
            cycles.add(p);
            continue;
          }
          stack.push(new String[] {p, "0"});
        }
      }
    }
    return order;
  }

  static ValueInfoProto valueInfo(String name, DataType dtype, long[] dims, String symbolPrefix) {
    TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder().setElemType(OnnxTypes.elemType(dtype));
    if (dims != null) {
      TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
      for (int i = 0; i < dims.length; i++) {
        TensorShapeProto.Dimension.Builder d = s.addDimBuilder();
        if (dims[i] >= 0) d.setDimValue(dims[i]);
        else if (symbolPrefix != null) d.setDimParam(symbolPrefix + "_d" + i);
      }
      t.setShape(s);
    }
    return ValueInfoProto.newBuilder().setName(name)
        .setType(TypeProto.newBuilder().setTensorType(t)).build();
  }
}
