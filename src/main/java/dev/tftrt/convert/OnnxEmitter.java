package dev.tftrt.convert;

import dev.tftrt.model.TensorNames;
import dev.tftrt.TftrtException;
import dev.tftrt.convert.onnx.AttributeProto;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.tensor.HostTensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.DataType;

/**
 * Where converters write: appends ONNX nodes and initializers, and keeps the binding from
 * TensorFlow tensors ("node:i") to ONNX value names. Constants are written lazily: the first
 * time a converter reads a Const-produced tensor as a value it becomes an initializer.
 */
public final class OnnxEmitter {
  private final TfGraph graph;
  private final int opset;
  private final List<NodeProto> nodes = new ArrayList<>();
  private final List<TensorProto> initializers = new ArrayList<>();
  private final Map<String, String> values = new HashMap<>(); // tf tensor -> onnx value
  private final Set<String> usedNames = new HashSet<>();
  private final Map<String, Integer> counters = new HashMap<>();

  private Set<String> exported = Set.of();
  private Set<String> exportOutputs = Set.of();

  public OnnxEmitter(TfGraph graph, int opset) {
    this.graph = graph;
    this.opset = opset;
  }

  /** Which nodes this export converts and which tensors it outputs (for multi-node patterns). */
  void scope(Set<String> nodes, Set<String> outputTensors) {
    this.exported = nodes;
    this.exportOutputs = outputTensors;
  }

  /** Whether node is converted in this export (a pattern may only fuse nodes that all are). */
  public boolean converts(String node) {
    return exported.contains(node);
  }

  /** Whether a TensorFlow tensor is one of this export's outputs. */
  public boolean isExportOutput(String tfTensor) {
    return exportOutputs.contains(TensorNames.canonical(tfTensor));
  }

  public int opset() {
    return opset;
  }

  public TfGraph graph() {
    return graph;
  }

  // ---- TensorFlow tensor bindings ----

  /** The ONNX value holding data input i of node. */
  public String input(NodeView node, int i) {
    return value(node.input(i));
  }

  /** The ONNX value for a TensorFlow tensor; constants become initializers on first use. */
  public String value(String tfTensor) {
    String t = TensorNames.canonical(tfTensor);
    String v = values.get(t);
    if (v != null) return v;
    Optional<HostTensor> c = graph.constant(t);
    if (c.isPresent()) {
      String name = reserve(t);
      initializers.add(OnnxTypes.tensor(name, c.get()));
      values.put(t, name);
      return name;
    }
    throw new IllegalStateException("tensor " + t + " is read before it is produced");
  }

  public boolean isBound(String tfTensor) {
    return values.containsKey(TensorNames.canonical(tfTensor));
  }

  /**
   * The ONNX name the node's output i should be written to (its TensorFlow name when free),
   * bound to that output.
   */
  public String output(NodeView node, int i) {
    String t = TensorNames.of(node.name(), i);
    if (values.containsKey(t)) throw new IllegalStateException(t + " is bound twice");
    String name = reserve(t);
    values.put(t, name);
    return name;
  }

  /** Makes output i of node stand for an existing ONNX value (no node needed). */
  public void alias(NodeView node, int i, String onnxValue) {
    bind(TensorNames.of(node.name(), i), onnxValue);
  }

  /** Binds a TensorFlow tensor to an existing ONNX value (graph inputs, aliases). */
  public void bind(String tfTensor, String onnxValue) {
    String t = TensorNames.canonical(tfTensor);
    if (values.containsKey(t)) throw new IllegalStateException(t + " is bound twice");
    usedNames.add(onnxValue);
    values.put(t, onnxValue);
  }

  // ---- names, constants ----

  /** A fresh ONNX value name starting with hint. */
  public String unique(String hint) {
    if (usedNames.add(hint)) return hint;
    int k = counters.merge(hint, 1, Integer::sum);
    String n;
    do {
      n = hint + "_" + k++;
    } while (!usedNames.add(n));
    counters.put(hint, k);
    return n;
  }

  private String reserve(String preferred) {
    return unique(preferred);
  }

  /** Adds an initializer and returns its name. */
  public String constant(String hint, HostTensor t) {
    String name = unique(hint);
    initializers.add(OnnxTypes.tensor(name, t));
    return name;
  }

  /** A 1-D int64 initializer (axes, shapes, pads...). */
  public String int64s(String hint, long... values) {
    return constant(hint, HostArrays.vector(values));
  }

  /** A scalar initializer of a given dtype. */
  public String scalar(String hint, DataType dtype, double value) {
    return constant(hint, HostTensor.scalarOf(dtype, value));
  }

  // ---- nodes ----

  /** Starts an ONNX node of the default domain. */
  public Node node(String opType) {
    return new Node(opType);
  }

  /** Emits a single-output node with a fresh output name and returns that name. */
  public String op(String opType, String... inputs) {
    return node(opType).in(inputs).emit();
  }

  List<NodeProto> nodes() {
    return nodes;
  }

  List<TensorProto> initializers() {
    return initializers;
  }

  void writeTo(GraphProto.Builder g) {
    g.addAllNode(nodes).addAllInitializer(initializers);
  }

  /** Fluent builder for one ONNX node. */
  public final class Node {
    private final NodeProto.Builder b;
    private final String opType;

    private Node(String opType) {
      this.opType = opType;
      this.b = NodeProto.newBuilder().setOpType(opType);
    }

    public Node in(String... names) {
      for (String n : names) b.addInput(n == null ? "" : n);
      return this;
    }

    public Node in(List<String> names) {
      for (String n : names) b.addInput(n);
      return this;
    }

    /** Output names; when none is given, emit() makes one. */
    public Node out(String... names) {
      for (String n : names) b.addOutput(n);
      return this;
    }

    public Node attr(String name, long v) {
      b.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v));
      return this;
    }

    public Node attr(String name, float v) {
      b.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v));
      return this;
    }

    public Node attr(String name, String v) {
      b.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
          .setS(com.google.protobuf.ByteString.copyFrom(v, StandardCharsets.UTF_8)));
      return this;
    }

    public Node attr(String name, long[] v) {
      AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
      for (long x : v) a.addInts(x);
      b.addAttribute(a);
      return this;
    }

    public Node attr(String name, float[] v) {
      AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOATS);
      for (float x : v) a.addFloats(x);
      b.addAttribute(a);
      return this;
    }

    public Node attr(String name, HostTensor v) {
      b.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.TENSOR)
          .setT(OnnxTypes.tensor(name, v)));
      return this;
    }

    /** Appends the node; returns its first output. */
    public String emit() {
      if (b.getOutputCount() == 0) b.addOutput(unique(opType.toLowerCase(java.util.Locale.ROOT)));
      b.setName(unique("n/" + opType + "/" + b.getOutput(0)));
      nodes.add(b.build());
      return b.getOutput(0);
    }

    /** Appends a node with n fresh outputs; returns them. */
    public List<String> emit(int n) {
      if (b.getOutputCount() != 0) throw new IllegalStateException("outputs already set");
      for (int i = 0; i < n; i++) b.addOutput(unique(opType.toLowerCase(java.util.Locale.ROOT)));
      emit();
      return b.getOutputList();
    }
  }

  /** Fails with a clear message when a converter emits something the opset cannot express. */
  public void requireOpset(int min, String what) {
    if (opset < min) throw new TftrtException(what + " needs ONNX opset " + min + " or later.");
  }
}
