package dev.tftrt.runtime.engine;

import dev.tftrt.testing.TfGraphs;
import java.util.List;
import dev.tftrt.tensor.HostTensor;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/** GraphDefs built from NodeDefs, and small Java backends, for the engine op tests. */
final class EngineGraphs {

  private EngineGraphs() {}

  /** A name no other test in this JVM uses (registry keys are global). */
  static String unique(String base) {
    return TfGraphs.unique(base);
  }

  static NodeDef placeholder(String name, DataType dtype, long... shape) {
    return TfGraphs.placeholder(name, dtype, shape);
  }

  static NodeDef constant(String name, HostTensor value) {
    return TfGraphs.constant(name, value);
  }

  static NodeDef binary(String op, String name, String a, String b) {
    return TfGraphs.op(op, name, a, b);
  }

  static GraphDef graph(NodeDef... nodes) {
    return TfGraphs.graph(List.of(nodes));
  }

  static Graph importGraph(GraphDef def) {
    return TfGraphs.importGraph(def);
  }

  /** Runs the session with float feeds and returns the fetched tensors as host tensors. */
  static HostTensor[] run(Session s, Map<String, HostTensor> feeds, String... fetches) {
    return TfGraphs.run(s, feeds, List.of(fetches));
  }

  static float[] floats(HostTensor t) {
    return TfGraphs.floats(t);
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
