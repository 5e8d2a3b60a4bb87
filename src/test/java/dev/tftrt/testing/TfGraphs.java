package dev.tftrt.testing;

import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.TensorProtos;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
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

/** Hand-built GraphDefs for tests, and running them: the pieces several test packages share. */
public final class TfGraphs {
  private static final AtomicInteger UNIQUE = new AtomicInteger();

  private TfGraphs() {}

  /** A name no other test in this JVM uses (engine registry keys are global). */
  public static String unique(String base) {
    return base + "_" + UNIQUE.incrementAndGet();
  }

  public static NodeDef placeholder(String name, DataType dtype, long... shape) {
    return NodeDef.newBuilder().setName(name).setOp("Placeholder")
        .putAttr("dtype", AttrValue.newBuilder().setType(dtype).build())
        .putAttr("shape", AttrValue.newBuilder().setShape(TensorProtos.shape(shape)).build())
        .build();
  }

  public static NodeDef constant(String name, HostTensor value) {
    return NodeDef.newBuilder().setName(name).setOp("Const")
        .putAttr("dtype", AttrValue.newBuilder().setType(value.dtype()).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(TensorProtos.fromHost(value)).build())
        .build();
  }

  /** A float op: op type, name, inputs, attribute T = float32. */
  public static NodeDef op(String op, String name, String... inputs) {
    NodeDef.Builder b = NodeDef.newBuilder().setName(name).setOp(op)
        .putAttr("T", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build());
    for (String in : inputs) b.addInput(in);
    return b.build();
  }

  public static GraphDef graph(List<NodeDef> nodes) {
    return GraphDef.newBuilder().addAllNode(nodes).build();
  }

  public static Graph importGraph(GraphDef def) {
    Graph g = new Graph();
    try {
      g.importGraphDef(def);
    } catch (RuntimeException e) {
      g.close();
      throw e;
    }
    return g;
  }

  /** Runs the session with host feeds and returns the fetched tensors as host tensors. */
  public static HostTensor[] run(Session s, Map<String, HostTensor> feeds, List<String> fetches) {
    Session.Runner r = s.runner();
    List<Tensor> fed = new ArrayList<>();
    try {
      for (Map.Entry<String, HostTensor> e : feeds.entrySet()) {
        Tensor t = e.getValue().toTensor();
        fed.add(t);
        r.feed(e.getKey(), t);
      }
      for (String f : fetches) r.fetch(f);
      try (Result result = r.run()) {
        HostTensor[] out = new HostTensor[fetches.size()];
        for (int i = 0; i < out.length; i++) out[i] = HostTensor.fromTensor(result.get(i));
        return out;
      }
    } finally {
      for (Tensor t : fed) t.close();
    }
  }

  /** Runs a GraphDef in a fresh graph and session: feeds by tensor name, results by fetch name. */
  public static Map<String, HostTensor> runGraph(GraphDef def, Map<String, HostTensor> feeds, List<String> fetches) {
    try (Graph g = importGraph(def); Session s = new Session(g)) {
      HostTensor[] out = run(s, feeds, fetches);
      Map<String, HostTensor> r = new java.util.LinkedHashMap<>();
      for (int i = 0; i < out.length; i++) r.put(fetches.get(i), out[i]);
      return r;
    }
  }

  public static float[] floats(HostTensor t) {
    FloatBuffer b = t.data().asFloatBuffer();
    float[] out = new float[b.remaining()];
    b.get(out);
    return out;
  }
}
