package dev.tftrt.convert;

import dev.tftrt.graph.TensorInfo;

import dev.tftrt.model.TensorNames;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * One TensorFlow node as validators and converters see it: attributes, data inputs (control
 * inputs left out), their inferred dtypes/shapes and constant values. Read-only.
 */
public final class NodeView {
  private final NodeDef def;
  private final TfGraph graph;
  private final List<String> inputs = new ArrayList<>();

  NodeView(NodeDef def, TfGraph graph) {
    this.def = def;
    this.graph = graph;
    for (String in : def.getInputList()) {
      if (!TensorNames.isControl(in)) inputs.add(TensorNames.canonical(in));
    }
  }

  public String name() {
    return def.getName();
  }

  public String op() {
    return def.getOp();
  }

  public NodeDef def() {
    return def;
  }

  public TfGraph graph() {
    return graph;
  }

  public int numInputs() {
    return inputs.size();
  }

  /** Canonical name ("node:i") of data input i. */
  public String input(int i) {
    return inputs.get(i);
  }

  public TensorInfo inputInfo(int i) {
    return graph.info(inputs.get(i));
  }

  public TensorInfo outputInfo(int i) {
    return graph.info(TensorNames.of(name(), i));
  }

  public int inputRank(int i) {
    return inputInfo(i).rank();
  }

  /** Input i's value when it is a constant (a Const node, possibly behind Identity). */
  public Optional<HostTensor> constant(int i) {
    return graph.constant(inputs.get(i));
  }

  public boolean isConstant(int i) {
    return constant(i).isPresent();
  }

  /**
   * The Dequantize node producing input i (possibly behind Identity) when its data inputs are
   * all constants: an 8-bit weight that converters may keep 8-bit. Else empty.
   */
  public Optional<NodeView> dequantized(int i) {
    String t = inputs.get(i);
    for (int depth = 0; depth <= 32; depth++) {
      NodeDef p = graph.node(TensorNames.node(t));
      if (p == null) return Optional.empty();
      if (TfGraph.PASS_THROUGH.contains(p.getOp()) && p.getInputCount() > 0 && !TensorNames.isControl(p.getInput(0))) {
        t = TensorNames.canonical(p.getInput(0));
        continue;
      }
      if (!p.getOp().equals("Dequantize") || TensorNames.index(t) != 0) return Optional.empty();
      NodeView v = new NodeView(p, graph);
      for (int k = 0; k < v.numInputs(); k++) if (!v.isConstant(k)) return Optional.empty();
      return v.numInputs() == 3 ? Optional.of(v) : Optional.empty();
    }
    return Optional.empty();
  }

  /** Input i's constant value as longs; throws if it is not constant (validate first). */
  public long[] constantLongs(int i) {
    return HostArrays.toLongs(constant(i).orElseThrow(
        () -> new IllegalStateException("input " + i + " of " + name() + " is not constant")));
  }

  /** Whether output i has consumers in the graph. */
  public boolean isOutputUsed(int i) {
    return !graph.consumers(TensorNames.of(name(), i)).isEmpty();
  }

  // ---- attributes ----

  public boolean hasAttr(String name) {
    return def.containsAttr(name);
  }

  public AttrValue attr(String name) {
    return def.getAttrOrDefault(name, null);
  }

  public long attrInt(String name, long dflt) {
    AttrValue a = attr(name);
    return a == null ? dflt : a.getI();
  }

  public float attrFloat(String name, float dflt) {
    AttrValue a = attr(name);
    return a == null ? dflt : a.getF();
  }

  public boolean attrBool(String name, boolean dflt) {
    AttrValue a = attr(name);
    return a == null ? dflt : a.getB();
  }

  public String attrString(String name, String dflt) {
    AttrValue a = attr(name);
    return a == null ? dflt : a.getS().toStringUtf8();
  }

  /** An int list attribute, or dflt (may be null) when absent. */
  public long[] attrInts(String name, long[] dflt) {
    AttrValue a = attr(name);
    if (a == null) return dflt;
    return a.getList().getIList().stream().mapToLong(Long::longValue).toArray();
  }

  public float[] attrFloats(String name) {
    AttrValue a = attr(name);
    if (a == null) return new float[0];
    List<Float> l = a.getList().getFList();
    float[] r = new float[l.size()];
    for (int i = 0; i < r.length; i++) r[i] = l.get(i);
    return r;
  }

  /** A type attribute, or null when absent. */
  public DataType attrType(String name) {
    AttrValue a = attr(name);
    return a == null ? null : a.getType();
  }

  /**
   * The dtype of input i: from shape inference, else from the "T" attribute, else DT_INVALID.
   */
  public DataType inputType(int i) {
    DataType t = inputInfo(i).dtype();
    if (t != null && t != DataType.DT_INVALID) return DTypes.base(t);
    DataType a = attrType("T");
    return a != null ? a : DataType.DT_INVALID;
  }

  public DataType outputType(int i) {
    DataType t = outputInfo(i).dtype();
    if (t != null && t != DataType.DT_INVALID) return DTypes.base(t);
    DataType a = attrType("T");
    return a != null ? a : DataType.DT_INVALID;
  }

  @Override
  public String toString() {
    return name() + " (" + op() + ")";
  }
}
