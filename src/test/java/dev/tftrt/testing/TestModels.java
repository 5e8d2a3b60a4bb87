package dev.tftrt.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tftrt.tensor.HostTensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.tensorflow.ConcreteFunction;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TString;

/**
 * Models the tests build themselves with TensorFlow Java, the real models in ../shared/models,
 * and small file helpers.
 */
public final class TestModels {
  private TestModels() {}

  // ------------------------------------------------------------------ ../shared/models

  /** ../shared/models relative to the project directory (where Maven runs the tests). */
  public static Path sharedModels() {
    return Path.of("..", "shared", "models");
  }

  /** ../shared/models, or the test is skipped with that reason. */
  public static Path requireSharedModels() {
    Path p = sharedModels();
    assumeTrue(Files.isDirectory(p), "../shared/models is absent");
    return p;
  }

  /** A model under ../shared/models, or the test is skipped. */
  public static Path shared(String relative) {
    Path p = requireSharedModels().resolve(relative);
    assumeTrue(Files.exists(p), "../shared/models/" + relative + " is absent");
    return p;
  }

  // ------------------------------------------------------------------ test-built models

  /** Signature keys of {@link #saveTwoOutputModel}: they differ from the node names on purpose. */
  public static final String TWO_OUT_INPUT = "x";
  public static final String TWO_OUT_HIDDEN = "hidden";
  public static final String TWO_OUT_TOTAL = "total";

  /**
   * A TF1-style SavedModel with VariableV2 variables (kernel, bias, scale) initialised from the
   * seed: x = node "features" float32[?,4] → hidden = relu(x·W + b) float32[?,3] (node "relu")
   * and total = sum(x·W + b, axis 1) * scale float32[?] (node "row_sum"). Signature
   * serving_default, tag serve.
   */
  public static void saveTwoOutputModel(Path dir, long seed) {
    buildTwoOutputModel(dir, seed, (x, hidden, total) -> new Signature[] {
        Signature.builder().key("serving_default").input(TWO_OUT_INPUT, x)
            .output(TWO_OUT_HIDDEN, hidden).output(TWO_OUT_TOTAL, total).build()});
  }

  /**
   * The same graph with two signatures and no serving_default: "first" (x → hidden) and
   * "second" (x → total).
   */
  public static void saveTwoSignatureModel(Path dir, long seed) {
    buildTwoOutputModel(dir, seed, (x, hidden, total) -> new Signature[] {
        Signature.builder().key("first").input(TWO_OUT_INPUT, x).output(TWO_OUT_HIDDEN, hidden).build(),
        Signature.builder().key("second").input(TWO_OUT_INPUT, x).output(TWO_OUT_TOTAL, total).build()});
  }

  private interface Signatures {
    Signature[] of(Operand<TFloat32> x, Operand<TFloat32> hidden, Operand<TFloat32> total);
  }

  private static void buildTwoOutputModel(Path dir, long seed, Signatures signatures) {
    Random rnd = new Random(seed);
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("features").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, 4)));
      Variable<TFloat32> w = tf.withName("kernel").variable(
          tf.constant(Shape.of(4, 3), DataBuffers.of(gaussian(rnd, 12), true, false)));
      Variable<TFloat32> b = tf.withName("bias").variable(
          tf.constant(Shape.of(3), DataBuffers.of(gaussian(rnd, 3), true, false)));
      Variable<TFloat32> scale = tf.withName("scale").variable(tf.constant(1.5f + rnd.nextFloat()));
      Operand<TFloat32> h = tf.nn.biasAdd(tf.linalg.matMul(x, w), b);
      Operand<TFloat32> hidden = tf.withName("relu").nn.relu(h);
      Operand<TFloat32> total = tf.withName("row_sum").math.mul(tf.sum(h, tf.constant(1)), scale);
      try (Session s = new Session(g)) {
        s.initialize();
        SavedModelBundle.exporter(dir.toString()).withSession(s)
            .withSignatures(signatures.of(x, hidden, total)).export();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A SavedModel whose output comes through a function call: y = f(x) + v, where f(a) = 3a + 1 is
   * a TF Java ConcreteFunction called from the graph and v a VariableV2 [0.25, -0.5].
   * x float32[?,2] → y float32[?,2], signature serving_default.
   */
  public static void saveFunctionCallModel(Path dir) {
    try (ConcreteFunction f = ConcreteFunction.create(tf -> {
          Placeholder<TFloat32> a = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 2)));
          Operand<TFloat32> r = tf.math.add(tf.math.mul(a, tf.constant(3f)), tf.constant(1f));
          return Signature.builder().key("affine").input("a", a).output("r", r).build();
        });
        Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, 2)));
      @SuppressWarnings("unchecked")
      Operand<TFloat32> called = (Operand<TFloat32>) tf.call(f, x);
      Variable<TFloat32> v = tf.withName("offset").variable(tf.constant(new float[] {0.25f, -0.5f}));
      Operand<TFloat32> y = tf.withName("y").math.add(called, v);
      try (Session s = new Session(g)) {
        s.initialize();
        Signature sig = Signature.builder().key("serving_default").input("x", x).output("y", y).build();
        SavedModelBundle.exporter(dir.toString()).withSession(s).withSignature(sig).export();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A frozen GraphDef with a scalar input: s float32[] → out = 3s + 1 float32[]. */
  public static void writeScalarGraph(Path file) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> s = tf.withName("s").placeholder(TFloat32.class,
          Placeholder.shape(Shape.scalar()));
      tf.withName("out").math.add(tf.math.mul(s, tf.constant(3f)), tf.constant(1f));
      Files.write(file, g.toGraphDef().toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A frozen GraphDef with a scalar string input: data string[] → length = its byte count, int32[]. */
  public static void writeStringLengthGraph(Path file) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TString> data = tf.withName("data").placeholder(TString.class, Placeholder.shape(Shape.scalar()));
      tf.withName("length").strings.stringLength(data);
      Files.write(file, g.toGraphDef().toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static float[] gaussian(Random rnd, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
    return v;
  }

  // ------------------------------------------------------------------ graphs and tensors

  public static GraphDef readGraphDef(Path file) {
    try {
      return GraphDef.parseFrom(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The graph of a converted folder (its one graph file, saved_model.pb). */
  public static GraphDef convertedGraph(Path dir) {
    try {
      return org.tensorflow.proto.SavedModel.parseFrom(Files.readAllBytes(dir.resolve("saved_model.pb")))
          .getMetaGraphs(0).getGraphDef();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The distinct op types of a graph (top level only). */
  public static Set<String> ops(GraphDef g) {
    Set<String> r = new TreeSet<>();
    for (NodeDef n : g.getNodeList()) r.add(n.getOp());
    return r;
  }

  /** The node of that name, or an AssertionError. */
  public static NodeDef node(GraphDef g, String name) {
    return g.getNodeList().stream().filter(n -> n.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no node '" + name + "' in the graph"));
  }

  /** Seeded floats uniform in [-2, 2). */
  public static HostTensor randomFloats(long seed, long... shape) {
    Random rnd = new Random(seed);
    float[] v = new float[(int) HostTensor.numElements(shape)];
    for (int i = 0; i < v.length; i++) v[i] = rnd.nextFloat() * 4 - 2;
    return HostTensor.ofFloats(shape, v);
  }

  public static float[] floats(HostTensor t) {
    float[] v = new float[(int) t.numElements()];
    for (int i = 0; i < v.length; i++) v[i] = (float) t.getDouble(i);
    return v;
  }

  // ------------------------------------------------------------------ files

  /** Copies a directory tree; the copies are writable even where the originals are read-only. */
  public static Path copyTree(Path from, Path to) {
    try (Stream<Path> all = Files.walk(from)) {
      for (Path p : all.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) Files.createDirectories(target);
        else copyWritable(p, target);
      }
      return to;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies a file and makes the copy writable by its owner. */
  public static Path copyWritable(Path from, Path to) {
    try {
      Files.copy(from, to);
      if (!to.toFile().setWritable(true, true)) throw new IOException("cannot make " + to + " writable");
      return to;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The names in a folder (hidden temporary files included), sorted. */
  public static List<String> listing(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted(Comparator.naturalOrder()).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Overwrites a file with its first half. */
  public static void truncateToHalf(Path file) {
    try {
      byte[] b = Files.readAllBytes(file);
      Files.write(file, java.util.Arrays.copyOf(b, b.length / 2));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
