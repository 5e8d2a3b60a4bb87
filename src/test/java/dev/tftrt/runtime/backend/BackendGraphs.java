package dev.tftrt.runtime.backend;

import dev.tftrt.convert.ops.StandardConverters;
import dev.tftrt.testing.TfGraphs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.runtime.engine.EngineNode;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Real engine graphs for the backend tests: a small TensorFlow graph, the ONNX export of its
 * subgraph, the segment in the splicer's convention, and the graph with that subgraph replaced
 * by one engine node spliced in by hand.
 */
final class BackendGraphs {
  static final DataType F = DataType.DT_FLOAT;

  private BackendGraphs() {}

  /** A name no other test in this JVM uses (registry keys are global). */
  static String unique(String base) {
    return TfGraphs.unique(base);
  }

  // ---- NodeDefs ----

  static NodeDef placeholder(String name, DataType dtype, long... shape) {
    return TfGraphs.placeholder(name, dtype, shape);
  }

  static NodeDef constant(String name, HostTensor value) {
    return TfGraphs.constant(name, value);
  }

  static NodeDef op(String op, String name, String... inputs) {
    return TfGraphs.op(op, name, inputs);
  }

  static GraphDef graph(List<NodeDef> nodes) {
    return TfGraphs.graph(nodes);
  }

  // ---- the model ----

  /**
   * The original graph: x[-1,4] (and z[-1,5] when two inputs) → MatMul(W) → BiasAdd(b) [→ AddV2
   * z] → Relu → Softmax. Outputs "sm:0", and with two outputs also "relu:0".
   */
  static final class Model {
    final GraphDef original;
    final List<String> inputs; // tensor names in the original graph, in the node's order
    final List<String> outputs;
    final long batchDim; // -1: unknown batch dimension

    Model(long batch, boolean twoInputs, boolean twoOutputs) {
      this.batchDim = batch;
      SplittableRandom r = new SplittableRandom(42);
      List<NodeDef> n = new ArrayList<>();
      n.add(placeholder("x", F, batch, 4));
      n.add(constant("W", randomFloats(r, 4, 5)));
      n.add(constant("b", randomFloats(r, 5)));
      n.add(op("MatMul", "mm", "x", "W"));
      n.add(op("BiasAdd", "ba", "mm", "b"));
      String pre = "ba";
      if (twoInputs) {
        n.add(placeholder("z", F, batch, 5));
        n.add(op("AddV2", "add", "ba", "z"));
        pre = "add";
      }
      n.add(op("Relu", "relu", pre));
      n.add(op("Softmax", "sm", "relu"));
      original = graph(n);
      inputs = twoInputs ? List.of("x:0", "z:0") : List.of("x:0");
      // Softmax first: the node's output order is not the graph's node order.
      outputs = twoOutputs ? List.of("sm:0", "relu:0") : List.of("sm:0");
    }

    byte[] onnx() {
      return new OnnxExporter(StandardConverters.registry()).export(original, inputs, outputs).toByteArray();
    }

    /** The segment as the splicer writes it: tftrt_input_i Placeholders, tftrt_output_i Identities. */
    GraphDef segment() {
      Map<String, String> feed = new HashMap<>();
      List<NodeDef> n = new ArrayList<>();
      for (int i = 0; i < inputs.size(); i++) {
        String node = inputs.get(i).substring(0, inputs.get(i).indexOf(':'));
        feed.put(node, "tftrt_input_" + i);
        n.add(NodeDef.newBuilder().setName("tftrt_input_" + i).setOp("Placeholder")
            .putAttr("dtype", AttrValue.newBuilder().setType(F).build()).build());
      }
      for (NodeDef d : original.getNodeList()) {
        if (feed.containsKey(d.getName())) continue;
        NodeDef.Builder b = d.toBuilder().clearInput();
        for (String in : d.getInputList()) {
          String node = in.contains(":") ? in.substring(0, in.indexOf(':')) : in;
          b.addInput(feed.getOrDefault(node, in));
        }
        n.add(b.build());
      }
      for (int i = 0; i < outputs.size(); i++) n.add(op("Identity", "tftrt_output_" + i, outputs.get(i)));
      return graph(n);
    }

    /** The engine node for this model's subgraph, with both the ONNX and the segment. */
    EngineNode.Builder engine(String name) {
      EngineNode.Builder b = EngineNode.builder(name);
      for (String in : inputs) b.input(in.substring(0, in.indexOf(':')), F);
      for (int i = 0; i < outputs.size(); i++) b.output(F, batchDim, 5);
      return b.onnx(onnx()).segment(segment());
    }

    /** Placeholders → engine → Identity y0 (y1, ...). */
    GraphDef converted(EngineNode engine) {
      List<NodeDef> n = new ArrayList<>();
      n.add(placeholder("x", F, batchDim, 4));
      if (inputs.size() > 1) n.add(placeholder("z", F, batchDim, 5));
      n.add(engine.toNodeDef());
      for (int i = 0; i < outputs.size(); i++) n.add(op("Identity", "y" + i, engine.name() + ":" + i));
      return graph(n);
    }

    List<String> convertedFetches() {
      List<String> f = new ArrayList<>();
      for (int i = 0; i < outputs.size(); i++) f.add("y" + i + ":0");
      return f;
    }

    /** Feeds for a batch, keyed by placeholder name. */
    Map<String, HostTensor> feeds(long batch, long seed) {
      SplittableRandom r = new SplittableRandom(seed);
      Map<String, HostTensor> f = new HashMap<>();
      f.put("x", randomFloats(r, batch, 4));
      if (inputs.size() > 1) f.put("z", randomFloats(r, batch, 5));
      return f;
    }

    /** The original graph's outputs for these feeds. */
    HostTensor[] expected(Map<String, HostTensor> feeds) {
      try (Graph g = importGraph(original); Session s = new Session(g)) {
        return run(s, feeds, outputs);
      }
    }
  }

  // ---- running ----

  static Graph importGraph(GraphDef def) {
    return TfGraphs.importGraph(def);
  }

  static HostTensor[] run(Session s, Map<String, HostTensor> feeds, List<String> fetches) {
    return TfGraphs.run(s, feeds, fetches);
  }

  static HostTensor randomFloats(SplittableRandom r, long... shape) {
    int n = (int) HostTensor.numElements(shape);
    ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) b.putFloat((float) (r.nextDouble() * 4 - 2));
    b.flip();
    return HostTensor.of(F, shape, b);
  }

  static float[] floats(HostTensor t) {
    return TfGraphs.floats(t);
  }

  /** |a - e| <= rtol·|e| + atol elementwise, same shape. */
  static void assertClose(HostTensor expected, HostTensor actual, double rtol, double atol) {
    assertEquals(expected.dtype(), actual.dtype());
    assertArrayEquals(expected.shape(), actual.shape(), "shape");
    float[] e = floats(expected);
    float[] a = floats(actual);
    for (int i = 0; i < e.length; i++) {
      if (!(Math.abs(a[i] - e[i]) <= rtol * Math.abs(e[i]) + atol)) {
        fail("element " + i + ": expected " + e[i] + " but got " + a[i] + " (rtol " + rtol
            + ", atol " + atol + ")");
      }
    }
  }
}
