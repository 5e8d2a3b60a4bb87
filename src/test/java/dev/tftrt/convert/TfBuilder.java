package dev.tftrt.convert;

import dev.tftrt.tensor.HostTensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.GraphOperationBuilder;
import org.tensorflow.Output;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.OpScope;
import org.tensorflow.op.Scope;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;

/**
 * Builds small TensorFlow graphs for converter tests by op type and attributes, the way they
 * appear in a GraphDef (so a test states exactly the node it converts).
 */
public final class TfBuilder implements AutoCloseable {
  private final Graph graph = new Graph();
  private final Scope scope = new OpScope(graph);
  private final Map<String, Integer> counts = new HashMap<>();

  /** A Const of a quantized dtype, imported as a GraphDef (TF Java has no quint8 tensors). */
  public Output<?> quantizedConst(String name, DataType dt, long[] shape, byte[] values) {
    org.tensorflow.proto.TensorShapeProto.Builder sp = org.tensorflow.proto.TensorShapeProto.newBuilder();
    for (long d : shape) sp.addDimBuilder().setSize(d);
    org.tensorflow.proto.TensorProto t = org.tensorflow.proto.TensorProto.newBuilder().setDtype(dt)
        .setTensorShape(sp).setTensorContent(com.google.protobuf.ByteString.copyFrom(values)).build();
    org.tensorflow.proto.NodeDef n = org.tensorflow.proto.NodeDef.newBuilder().setName(name).setOp("Const")
        .putAttr("dtype", org.tensorflow.proto.AttrValue.newBuilder().setType(dt).build())
        .putAttr("value", org.tensorflow.proto.AttrValue.newBuilder().setTensor(t).build()).build();
    graph().importGraphDef(GraphDef.newBuilder().addNode(n).build());
    return graph().operation(name).output(0);
  }

  public Graph graph() {
    return graph;
  }

  public GraphDef graphDef() {
    return graph.toGraphDef();
  }

  /** A Placeholder; -1 dimensions are unknown. */
  public Output<?> placeholder(String name, DataType dtype, long... shape) {
    return graph.opBuilder("Placeholder", name, scope).setAttr("dtype", dtype)
        .setAttr("shape", Shape.of(shape)).build().output(0);
  }

  /** A Placeholder of unknown rank. */
  public Output<?> placeholderUnknownRank(String name, DataType dtype) {
    return graph.opBuilder("Placeholder", name, scope).setAttr("dtype", dtype)
        .setAttr("shape", Shape.unknown()).build().output(0);
  }

  public Output<?> constant(String name, HostTensor value) {
    try (Tensor t = value.toTensor()) {
      return graph.opBuilder("Const", name, scope).setAttr("dtype", value.dtype())
          .setAttr("value", t).build().output(0);
    }
  }

  public Output<?> constant(HostTensor value) {
    return constant(fresh("Const"), value);
  }

  public Output<?> ints(int... values) {
    return constant(HostTensor.ofInts(new long[] {values.length}, values));
  }

  public Output<?> scalarInt(int value) {
    return constant(HostTensor.ofInts(new long[0], value));
  }

  public Output<?> floats(long[] shape, float... values) {
    return constant(HostTensor.ofFloats(shape, values));
  }

  /** Starts a node of a given op type, named op_k unless named. */
  public Node op(String type) {
    return new Node(type);
  }

  private String fresh(String type) {
    int k = counts.merge(type, 1, Integer::sum);
    return type.toLowerCase(java.util.Locale.ROOT) + (k == 1 ? "" : "_" + k);
  }

  @Override
  public void close() {
    graph.close();
  }

  /** One node under construction. */
  public final class Node {
    private final String type;
    private String name;
    private final List<Output<?>> inputs = new ArrayList<>();
    private final List<Output<?>[]> lists = new ArrayList<>();
    private final List<Object[]> attrs = new ArrayList<>();
    private final List<Integer> order = new ArrayList<>(); // 0 = single input, 1 = list

    private Node(String type) {
      this.type = type;
    }

    public Node name(String name) {
      this.name = name;
      return this;
    }

    public Node in(Output<?>... xs) {
      for (Output<?> x : xs) {
        inputs.add(x);
        order.add(0);
      }
      return this;
    }

    public Node inList(Output<?>... xs) {
      lists.add(xs);
      order.add(1);
      return this;
    }

    public Node attr(String name, Object value) {
      attrs.add(new Object[] {name, value});
      return this;
    }

    public GraphOperation build() {
      GraphOperationBuilder b = graph.opBuilder(type, name != null ? name : fresh(type), scope);
      int si = 0;
      int li = 0;
      for (int kind : order) {
        if (kind == 0) b.addInput(inputs.get(si++));
        else b.addInputList(lists.get(li++));
      }
      for (Object[] a : attrs) {
        String n = (String) a[0];
        Object v = a[1];
        if (v instanceof Long l) b.setAttr(n, l);
        else if (v instanceof Integer i) b.setAttr(n, (long) i);
        else if (v instanceof Float f) b.setAttr(n, f);
        else if (v instanceof Double d) b.setAttr(n, (float) (double) d);
        else if (v instanceof Boolean z) b.setAttr(n, z);
        else if (v instanceof String s) b.setAttr(n, s);
        else if (v instanceof long[] ls) b.setAttr(n, ls);
        else if (v instanceof int[] is) b.setAttr(n, java.util.Arrays.stream(is).asLongStream().toArray());
        else if (v instanceof float[] fs) b.setAttr(n, fs);
        else if (v instanceof DataType t) b.setAttr(n, t);
        else if (v instanceof DataType[] ts) b.setAttr(n, ts);
        else if (v instanceof Shape s) b.setAttr(n, s);
        else throw new IllegalArgumentException("attr " + n + ": " + v.getClass());
      }
      return b.build();
    }

    /** Builds the node and returns its first output. */
    public Output<?> out() {
      return build().output(0);
    }
  }
}
