package dev.tftrt.bench;

import dev.tftrt.runtime.engine.EngineBackend;
import dev.tftrt.runtime.engine.EngineCall;
import dev.tftrt.runtime.engine.EngineNode;
import dev.tftrt.runtime.engine.EngineOp;
import dev.tftrt.runtime.engine.EngineRegistry;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.TensorProtos;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * The TftrtEngine op's own per-call overhead: median time of one Session.run of a graph whose
 * only op is an engine node (a one-op segment computing y = 2x + 1 on 64 floats in Java),
 * against calling the same Java computation directly, and against a Session.run of the same
 * function as plain TensorFlow ops (what Session.run itself costs). Not a test; run with
 *
 * <pre>
 * mvn -q -B test-compile && java -cp target/classes:target/test-classes:$(cat cp.txt) \
 *     dev.tftrt.bench.EngineOverheadBenchmark [iterations]
 * </pre>
 * (cp.txt from {@code mvn dependency:build-classpath -Dmdep.outputFile=cp.txt}).
 */
@SuppressWarnings("try")
public final class EngineOverheadBenchmark {
  private static final int N = 64;
  private static final int CHAIN = 20;

  /** The bare computation both paths run. */
  static void affine(FloatBuffer in, FloatBuffer out) {
    for (int i = 0; i < N; i++) out.put(i, 2 * in.get(i) + 1);
  }

  public static void main(String[] args) {
    int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
    EngineOp.load();
    EngineBackend backend = new EngineBackend() {
      @Override
      public void run(EngineCall call) {
        affine(call.input(0).asFloatBuffer(), call.allocateOutput(0, 1, N).asFloatBuffer());
      }
    };
    NodeDef x = NodeDef.newBuilder().setName("x").setOp("Placeholder")
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build())
        .putAttr("shape", AttrValue.newBuilder().setShape(TensorProtos.shape(new long[] {1, N})).build())
        .build();
    GraphDef engineGraph = GraphDef.newBuilder().addNode(x).addNode(EngineNode.builder("engine")
        .input("x", DataType.DT_FLOAT).output(DataType.DT_FLOAT, 1, N).build().toNodeDef()).build();
    GraphDef tfGraph = GraphDef.newBuilder().addNode(x)
        .addNode(constant("two", 2f)).addNode(constant("one", 1f))
        .addNode(binary("Mul", "mul", "x", "two")).addNode(binary("AddV2", "engine", "mul", "one"))
        .build();

    // A chain of CHAIN engine nodes against a graph that only passes x through: the difference
    // per node is the engine op's cost inside a running graph, without Session.run's own.
    GraphDef.Builder chain = GraphDef.newBuilder().addNode(x);
    String prev = "x";
    for (int k = 0; k < CHAIN; k++) {
      String name = k == CHAIN - 1 ? "engine" : "chain_" + k;
      chain.addNode(EngineNode.builder(name).key("engine").input(prev, DataType.DT_FLOAT)
          .output(DataType.DT_FLOAT, 1, N).build().toNodeDef());
      prev = name;
    }
    GraphDef chainGraph = chain.build();
    GraphDef identityGraph = GraphDef.newBuilder().addNode(x).addNode(NodeDef.newBuilder()
        .setName("engine").setOp("Identity").addInput("x")
        .putAttr("T", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build())).build();

    float[] values = new float[N];
    for (int i = 0; i < N; i++) values[i] = i * 0.5f;
    HostTensor input = HostTensor.ofFloats(new long[] {1, N}, values);

    // Direct: the Java computation on direct buffers, as the backend sees them.
    ByteBuffer in = ByteBuffer.allocateDirect(N * 4).order(ByteOrder.LITTLE_ENDIAN);
    in.asFloatBuffer().put(values);
    ByteBuffer out = ByteBuffer.allocateDirect(N * 4).order(ByteOrder.LITTLE_ENDIAN);
    long[] direct = new long[iterations];
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < iterations; i++) {
        long t0 = System.nanoTime();
        affine(in.asFloatBuffer(), out.asFloatBuffer());
        direct[i] = System.nanoTime() - t0;
      }
    }
    long[] engine;
    long[] plain;
    long[] chained;
    long[] identity;
    try (EngineRegistry.Registration r = EngineRegistry.register("engine", backend);
        Tensor fed = input.toTensor()) {
      engine = timeSessionRuns(engineGraph, fed, iterations);
      plain = timeSessionRuns(tfGraph, fed, iterations);
      engine = timeSessionRuns(engineGraph, fed, iterations); // again, after both warmed up
      chained = timeSessionRuns(chainGraph, fed, iterations);
      identity = timeSessionRuns(identityGraph, fed, iterations);
    }
    double d = median(direct) / 1000.0;
    double e = median(engine) / 1000.0;
    double p = median(plain) / 1000.0;
    System.out.printf("one-op engine graph, Session.run median:      %8.2f us%n", e);
    System.out.printf("same function as TF ops (Mul+AddV2), median: %8.2f us%n", p);
    System.out.printf("Java backend called directly, median:         %8.2f us%n", d);
    System.out.printf("engine op overhead vs direct backend call:    %8.2f us%n", e - d);
    System.out.printf("engine graph vs plain TF graph:               %8.2f us%n", e - p);
    double c = median(chained) / 1000.0;
    double id = median(identity) / 1000.0;
    System.out.printf("%d chained engine nodes, median:              %8.2f us%n", CHAIN, c);
    System.out.printf("Identity-only graph (Session.run floor):      %8.2f us%n", id);
    System.out.printf("per engine node in a running graph:           %8.2f us (of which backend %.2f)%n",
        (c - id) / CHAIN, d);
  }

  private static long[] timeSessionRuns(GraphDef def, Tensor fed, int iterations) {
    long[] times = new long[iterations];
    try (Graph g = new Graph()) {
      g.importGraphDef(def);
      try (Session s = new Session(g)) {
        for (int round = 0; round < 2; round++) { // the first round warms up
          for (int i = 0; i < iterations; i++) {
            long t0 = System.nanoTime();
            try (Result r = s.runner().feed("x", fed).fetch("engine").run()) {
              times[i] = System.nanoTime() - t0;
            }
          }
        }
      }
    }
    return times;
  }

  private static double median(long[] xs) {
    long[] c = xs.clone();
    Arrays.sort(c);
    return c[c.length / 2];
  }

  private static NodeDef constant(String name, float v) {
    return NodeDef.newBuilder().setName(name).setOp("Const")
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build())
        .putAttr("value", AttrValue.newBuilder()
            .setTensor(TensorProtos.fromHost(HostTensor.ofFloats(new long[0], v))).build())
        .build();
  }

  private static NodeDef binary(String op, String name, String a, String b) {
    return NodeDef.newBuilder().setName(name).setOp(op).addInput(a).addInput(b)
        .putAttr("T", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build()).build();
  }
}
