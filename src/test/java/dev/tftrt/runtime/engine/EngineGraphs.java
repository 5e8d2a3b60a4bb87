package dev.tftrt.runtime.engine;

import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.TensorProtos;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/** GraphDefs built from NodeDefs, and small Java backends, for the engine op tests. */
final class EngineGraphs {
  private static final AtomicInteger UNIQUE = new AtomicInteger();

  private EngineGraphs() {}

  /** A name no other test in this JVM uses (registry keys are global). */
  static String unique(String base) {
    return base + "_" + UNIQUE.incrementAndGet();
  }

  static NodeDef placeholder(String name, DataType dtype, long... shape) {
    return NodeDef.newBuilder().setName(name).setOp("Placeholder")
        .putAttr("dtype", AttrValue.newBuilder().setType(dtype).build())
        .putAttr("shape", AttrValue.newBuilder().setShape(TensorProtos.shape(shape)).build())
        .build();
  }

  static NodeDef constant(String name, HostTensor value) {
    return NodeDef.newBuilder().setName(name).setOp("Const")
        .putAttr("dtype", AttrValue.newBuilder().setType(value.dtype()).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(TensorProtos.fromHost(value)).build())
        .build();
  }

  static NodeDef binary(String op, String name, String a, String b) {
    return NodeDef.newBuilder().setName(name).setOp(op).addInput(a).addInput(b)
        .putAttr("T", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build()).build();
  }

  static GraphDef graph(NodeDef... nodes) {
    GraphDef.Builder g = GraphDef.newBuilder();
    for (NodeDef n : nodes) g.addNode(n);
    return g.build();
  }

  static Graph importGraph(GraphDef def) {
    Graph g = new Graph();
    try {
      g.importGraphDef(def);
    } catch (RuntimeException e) {
      g.close();
      throw e;
    }
    return g;
  }

  /** Runs the session with float feeds and returns the fetched tensors as host tensors. */
  static HostTensor[] run(Session s, Map<String, HostTensor> feeds, String... fetches) {
    Session.Runner r = s.runner();
    Tensor[] fed = new Tensor[feeds.size()];
    int k = 0;
    try {
      for (Map.Entry<String, HostTensor> e : feeds.entrySet()) {
        fed[k] = e.getValue().toTensor();
        r.feed(e.getKey(), fed[k++]);
      }
      for (String f : fetches) r.fetch(f);
      try (Result result = r.run()) {
        HostTensor[] out = new HostTensor[fetches.length];
        for (int i = 0; i < fetches.length; i++) out[i] = HostTensor.fromTensor(result.get(i));
        return out;
      }
    } finally {
      for (Tensor t : fed) if (t != null) t.close();
    }
  }

  static float[] floats(HostTensor t) {
    FloatBuffer b = t.data().asFloatBuffer();
    float[] out = new float[b.remaining()];
    b.get(out);
    return out;
  }

  /** y = a·x + b on float tensors of any shape, written straight into TensorFlow's output. */
  static final class Affine implements EngineBackend {
    final float a;
    final float b;
    final AtomicInteger calls = new AtomicInteger();
    volatile boolean closed;

    Affine(float a, float b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void run(EngineCall call) {
      calls.incrementAndGet();
      FloatBuffer in = call.input(0).asFloatBuffer();
      FloatBuffer out = call.allocateOutput(0, call.inputShape(0)).asFloatBuffer();
      for (int i = 0; i < in.remaining(); i++) out.put(i, a * in.get(i) + b);
    }

    @Override
    public String describe() {
      return "affine";
    }

    @Override
    public void close() {
      closed = true;
    }
  }
}
