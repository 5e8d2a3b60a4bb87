package dev.tftrt.bench;

import dev.tftrt.convert.ops.StandardConverters;
import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Conversion speed (not a timed test): ONNX export of DeepLab after JVM warm-up (median of
 * several runs), and of generated graphs of 12.5k, 25k and 50k nodes (a long chain of
 * element-wise ops and matmuls, and a wide DAG of them), printing each time and time / (n log n)
 * so growth can be checked. Export here means everything {@code tftrt export-onnx} does after
 * reading the file: TensorFlow shape inference, validation, conversion and the ONNX passes.
 *
 * <p>Run: {@code mvn -q test-compile exec:java}-style, or with the test classpath:
 * {@code java -cp target/test-classes:target/classes:$(cat cp.txt) dev.tftrt.bench.ConvertBenchmark}
 */
public final class ConvertBenchmark {
  public static void main(String[] args) throws Exception {
    Path deeplab = Path.of(args.length > 0 ? args[0] : "../shared/models/deeplab-mnv2-portrait/frozen_inference_graph.pb");
    if (Files.exists(deeplab)) {
      GraphDef gd = GraphDef.parseFrom(Files.readAllBytes(deeplab));
      for (int i = 0; i < 5; i++) exportDeeplab(gd); // warm-up
      double[] t = new double[7];
      ModelProto m = null;
      for (int i = 0; i < t.length; i++) {
        long t0 = System.nanoTime();
        m = exportDeeplab(gd);
        t[i] = (System.nanoTime() - t0) / 1e9;
      }
      Arrays.sort(t);
      System.out.printf("deeplab (%d TF nodes -> %d ONNX nodes, %d transposes): median %.3f s (min %.3f, max %.3f) over %d runs%n",
          gd.getNodeCount(), m.getGraph().getNodeCount(), OnnxExporter.countTransposes(m), t[t.length / 2], t[0],
          t[t.length - 1], t.length);
    } else {
      System.out.println("deeplab: " + deeplab + " is absent, skipped");
    }
    for (String shape : new String[] {"chain", "wide"}) {
      generated(shape, 2000); // warm-up
      double base = 0;
      for (int n : new int[] {12_500, 25_000, 50_000}) {
        GraphDef g = shape.equals("chain") ? chain(n) : wide(n);
        double best = Double.MAX_VALUE;
        for (int r = 0; r < 3; r++) best = Math.min(best, time(g));
        double nlogn = g.getNodeCount() * Math.log(g.getNodeCount());
        if (base == 0) base = best / nlogn;
        System.out.printf("%s %6d nodes: %.3f s (best of 3); time/(n log n) relative to 12.5k: %.2f%n",
            shape, g.getNodeCount(), best, best / nlogn / base);
      }
    }
  }

  private static ModelProto exportDeeplab(GraphDef gd) {
    return new OnnxExporter(StandardConverters.registry()).inputShape("sub_2", 1, 513, 513, 3)
        .export(gd, List.of("sub_2"), List.of("RawSemanticProbabilities", "ResizeBilinear_1"));
  }

  private static void generated(String shape, int n) {
    time(shape.equals("chain") ? chain(n) : wide(n));
  }

  private static double time(GraphDef g) {
    long t0 = System.nanoTime();
    new OnnxExporter(StandardConverters.registry()).export(g, List.of("x"), List.of("out"));
    return (System.nanoTime() - t0) / 1e9;
  }

  private static final int WIDTH = 8;
  private static final SplittableRandom RAND = new SplittableRandom(1);
  private static final String[] ELEMENTWISE = {"Relu", "Tanh", "Sigmoid", "Neg"};

  private static AttrValue type() {
    return AttrValue.newBuilder().setType(DataType.DT_FLOAT).build();
  }

  private static NodeDef constant(String name, long... shape) {
    int n = (int) HostTensor.numElements(shape);
    ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) b.putFloat((float) (RAND.nextDouble() - 0.5));
    b.flip();
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (long d : shape) s.addDimBuilder().setSize(d);
    TensorProto t = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(s)
        .setTensorContent(com.google.protobuf.ByteString.copyFrom(b)).build();
    return NodeDef.newBuilder().setName(name).setOp("Const").putAttr("dtype", type())
        .putAttr("value", AttrValue.newBuilder().setTensor(t).build()).build();
  }

  private static NodeDef op(String name, String op, String... inputs) {
    return NodeDef.newBuilder().setName(name).setOp(op).addAllInput(List.of(inputs)).putAttr("T", type()).build();
  }

  private static GraphDef.Builder start() {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    s.addDimBuilder().setSize(-1);
    s.addDimBuilder().setSize(WIDTH);
    return GraphDef.newBuilder().addNode(NodeDef.newBuilder().setName("x").setOp("Placeholder").putAttr("dtype", type())
        .putAttr("shape", AttrValue.newBuilder().setShape(s).build()));
  }

  /** x -> (MatMul, BiasAdd, element-wise)* -> out: one long path of about n nodes. */
  static GraphDef chain(int n) {
    GraphDef.Builder g = start();
    String prev = "x";
    int i = 0;
    while (g.getNodeCount() < n - 1) {
      String p = "l" + i++;
      switch (i % 3) {
        case 0:
          g.addNode(constant(p + "/w", WIDTH, WIDTH));
          g.addNode(op(p + "/mm", "MatMul", prev, p + "/w"));
          prev = p + "/mm";
          break;
        case 1:
          g.addNode(constant(p + "/b", WIDTH));
          g.addNode(op(p + "/add", "AddV2", prev, p + "/b"));
          prev = p + "/add";
          break;
        default:
          g.addNode(op(p + "/act", ELEMENTWISE[i % ELEMENTWISE.length], prev));
          prev = p + "/act";
      }
    }
    g.addNode(op("out", "Identity", prev));
    return g.build();
  }

  /** Many short branches from x, each a few ops, joined pairwise by adds into one output. */
  static GraphDef wide(int n) {
    GraphDef.Builder g = start();
    List<String> heads = new ArrayList<>();
    int i = 0;
    g.addNode(constant("w", WIDTH, WIDTH));
    while (g.getNodeCount() < n * 3 / 4 - 1) { // 3 nodes a branch, then about 1 join a branch
      String p = "b" + i++;
      g.addNode(op(p + "/mm", "MatMul", "x", "w"));
      g.addNode(op(p + "/act", ELEMENTWISE[i % ELEMENTWISE.length], p + "/mm"));
      g.addNode(op(p + "/mul", "Mul", p + "/act", "x"));
      heads.add(p + "/mul");
    }
    int k = 0;
    while (heads.size() > 1) {
      List<String> next = new ArrayList<>();
      for (int j = 0; j + 1 < heads.size(); j += 2) {
        String name = "join" + k++;
        g.addNode(op(name, "AddV2", heads.get(j), heads.get(j + 1)));
        next.add(name);
      }
      if (heads.size() % 2 == 1) next.add(heads.get(heads.size() - 1));
      heads = next;
    }
    g.addNode(op("out", "Identity", heads.get(0)));
    return g.build();
  }
}
