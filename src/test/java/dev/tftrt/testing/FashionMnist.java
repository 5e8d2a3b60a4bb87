package dev.tftrt.testing;

import dev.tftrt.tensor.HostTensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Assumptions;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.types.TFloat32;

/**
 * The Fashion-MNIST classifier the INT8 tests quantize, trained by the project itself with
 * TensorFlow Java (graph gradients, momentum SGD) on ../shared/datasets/fashion-mnist: two
 * conv + batch-norm + ReLU + max-pool blocks and two dense layers. Trained once (one epoch, well
 * under a minute on two cores) and cached as a frozen GraphDef under target/, whose input is
 * {@code image} float32[?,28,28,1] (pixels / 255) and outputs {@code logits} and
 * {@code probabilities} [?,10]. Batch norm trains on batch statistics; the frozen graph holds
 * FusedBatchNormV3 with the population mean and variance measured after training.
 */
public final class FashionMnist {
  public static final Path DATA = Path.of("../shared/datasets/fashion-mnist");
  public static final Path MODEL = Path.of("target/fashion-mnist-classifier/v2/frozen.pb");
  public static final int SIDE = 28;
  private static final int BATCH = 100;
  private static final float EPS = 1e-3f;

  /** Images as floats in [0, 1], NHWC flattened, and labels. */
  public record Split(float[] images, int[] labels) {
    public int size() {
      return labels.length;
    }

    /** Images [from, from + n) as a [n, 28, 28, 1] float tensor. */
    public HostTensor batch(int from, int n) {
      int px = SIDE * SIDE;
      return HostTensor.ofFloats(new long[] {n, SIDE, SIDE, 1}, Arrays.copyOfRange(images, from * px, (from + n) * px));
    }
  }

  private FashionMnist() {}

  public static void requireData() {
    Assumptions.assumeTrue(Files.isRegularFile(DATA.resolve("t10k-images-idx3-ubyte.gz")),
        "../shared/datasets/fashion-mnist is absent");
  }

  public static Split train() {
    return read("train");
  }

  public static Split test() {
    return read("t10k");
  }

  private static Split read(String prefix) {
    try {
      byte[] img = gunzip(DATA.resolve(prefix + "-images-idx3-ubyte.gz"));
      byte[] lab = gunzip(DATA.resolve(prefix + "-labels-idx1-ubyte.gz"));
      ByteBuffer ib = ByteBuffer.wrap(img).order(ByteOrder.BIG_ENDIAN);
      ByteBuffer lb = ByteBuffer.wrap(lab).order(ByteOrder.BIG_ENDIAN);
      if (ib.getInt() != 2051 || lb.getInt() != 2049) throw new IOException("not IDX image/label files");
      int n = ib.getInt();
      int rows = ib.getInt();
      int cols = ib.getInt();
      if (lb.getInt() != n || rows != SIDE || cols != SIDE) throw new IOException("unexpected IDX sizes");
      float[] images = new float[n * rows * cols];
      for (int i = 0; i < images.length; i++) images[i] = (img[16 + i] & 0xff) / 255f;
      int[] labels = new int[n];
      for (int i = 0; i < n; i++) labels[i] = lab[8 + i];
      return new Split(images, labels);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read Fashion-MNIST " + prefix + ": " + e.getMessage(), e);
    }
  }

  private static byte[] gunzip(Path p) throws IOException {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(p))) {
      return in.readAllBytes();
    }
  }

  /** The frozen classifier, trained now if target/ does not hold it yet. */
  public static synchronized Path model() {
    requireData();
    if (Files.isRegularFile(MODEL)) return MODEL;
    try {
      Files.createDirectories(MODEL.getParent());
      Path tmp = Files.createTempFile(MODEL.getParent(), ".frozen", ".tmp");
      Files.write(tmp, trainAndFreeze(train(), 1, 7));
      Files.move(tmp, MODEL, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return MODEL;
    } catch (IOException e) {
      throw new IllegalStateException("cannot cache the Fashion-MNIST classifier: " + e.getMessage(), e);
    }
  }

  // ---- training ----

  private static final long[][] SHAPES = {
      {3, 3, 1, 16}, {16}, {16}, {16},     // conv1 kernel, bias, gamma, beta
      {3, 3, 16, 32}, {32}, {32}, {32},    // conv2
      {7 * 7 * 32, 64}, {64},              // dense1
      {64, 10}, {10}};                     // dense2

  static byte[] trainAndFreeze(Split data, int epochs, long seed) {
    Random rnd = new Random(seed);
    float[][] values = new float[SHAPES.length][];
    for (int i = 0; i < SHAPES.length; i++) {
      int n = (int) Arrays.stream(SHAPES[i]).reduce(1, (a, b) -> a * b);
      values[i] = new float[n];
      boolean gamma = i == 2 || i == 6;
      boolean kernel = SHAPES[i].length > 1;
      long fanIn = kernel ? n / SHAPES[i][SHAPES[i].length - 1] : 1;
      for (int k = 0; k < n; k++) {
        values[i][k] = gamma ? 1f : kernel ? (float) (rnd.nextGaussian() * Math.sqrt(2.0 / fanIn)) : 0f;
      }
    }
    float[][] bnStats = new float[4][]; // mean1, var1, mean2, var2 (population, measured after training)
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, SIDE, SIDE, 1)));
      Placeholder<TFloat32> y = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 10)));
      List<Variable<TFloat32>> vars = new ArrayList<>();
      for (int i = 0; i < SHAPES.length; i++) {
        vars.add(tf.variable(tf.constant(Shape.of(SHAPES[i]), DataBuffers.of(values[i], true, false))));
      }
      List<Operand<TFloat32>> moments = new ArrayList<>();
      Operand<TFloat32> h = trainBlock(tf, x, vars.subList(0, 4), moments);
      h = trainBlock(tf, h, vars.subList(4, 8), moments);
      h = tf.reshape(h, tf.constant(new int[] {-1, 7 * 7 * 32}));
      h = tf.nn.relu(tf.nn.biasAdd(tf.linalg.matMul(h, vars.get(8)), vars.get(9)));
      Operand<TFloat32> logits = tf.nn.biasAdd(tf.linalg.matMul(h, vars.get(10)), vars.get(11));
      Operand<TFloat32> loss = tf.math.mean(tf.nn.softmaxCrossEntropyWithLogits(logits, y).loss(), tf.constant(0));
      var grads = tf.gradients(loss, vars);
      List<Operand<?>> train = new ArrayList<>();
      Operand<TFloat32> lr = tf.constant(0.01f);
      Operand<TFloat32> mom = tf.constant(0.9f);
      for (int i = 0; i < vars.size(); i++) {
        Variable<TFloat32> accum = tf.variable(tf.zerosLike(vars.get(i)));
        @SuppressWarnings("unchecked")
        Operand<TFloat32> gi = (Operand<TFloat32>) (Operand<?>) grads.dy(i);
        train.add(tf.train.applyMomentum(vars.get(i), accum, lr, gi, mom));
      }
      // One thread narrows how much the network varies; it still differs between runs and
      // machines (seen with oneDNN off too), so the INT8 tests hold for any such network.
      org.tensorflow.proto.ConfigProto oneThread = org.tensorflow.proto.ConfigProto.newBuilder()
          .setIntraOpParallelismThreads(1).setInterOpParallelismThreads(1).build();
      try (Session s = new Session(g, oneThread)) {
        s.initialize();
        int n = data.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        float[] bx = new float[BATCH * SIDE * SIDE];
        float[] by = new float[BATCH * 10];
        for (int e = 0; e < epochs; e++) {
          shuffle(order, rnd);
          for (int b = 0; b + BATCH <= n; b += BATCH) {
            fill(data, order, b, bx, by);
            try (TFloat32 tx = TFloat32.tensorOf(Shape.of(BATCH, SIDE, SIDE, 1), DataBuffers.of(bx, true, false));
                 TFloat32 ty = TFloat32.tensorOf(Shape.of(BATCH, 10), DataBuffers.of(by, true, false))) {
              Session.Runner r = s.runner().feed(x, tx).feed(y, ty);
              for (Operand<?> t : train) r.addTarget(t);
              r.fetch(loss);
              try (Result res = r.run()) {
                if (b % 10000 == 0) System.err.println("fashion-mnist training: epoch " + e + " step " + b / BATCH + " loss " + ((TFloat32) res.get(0)).getFloat());
              }
            }
          }
        }
        // population statistics of each batch norm's input, over 50 training batches
        for (int k = 0; k < 4; k++) bnStats[k] = new float[(int) SHAPES[k < 2 ? 1 : 5][0]];
        int batches = 50;
        for (int b = 0; b < batches; b++) {
          fill(data, order, b * BATCH, bx, by);
          try (TFloat32 tx = TFloat32.tensorOf(Shape.of(BATCH, SIDE, SIDE, 1), DataBuffers.of(bx, true, false))) {
            Session.Runner r = s.runner().feed(x, tx);
            for (Operand<TFloat32> m : moments) r.fetch(m);
            for (Variable<TFloat32> v : vars) r.fetch(v);
            try (Result res = r.run()) {
              for (int k = 0; k < 4; k++) {
                TFloat32 t = (TFloat32) res.get(k);
                for (int c = 0; c < bnStats[k].length; c++) bnStats[k][c] += t.getFloat(c) / batches;
              }
              if (b == batches - 1) {
                for (int i = 0; i < vars.size(); i++) {
                  TFloat32 t = (TFloat32) res.get(4 + i);
                  float[] v = new float[values[i].length];
                  t.asRawTensor().data().asFloats().read(v);
                  values[i] = v;
                }
              }
            }
          }
        }
      }
    }
    return freeze(values, bnStats);
  }

  /** conv + bias, batch norm on the batch's own statistics, ReLU, 2x2 max pool. */
  private static Operand<TFloat32> trainBlock(Ops tf, Operand<TFloat32> x, List<Variable<TFloat32>> v,
      List<Operand<TFloat32>> moments) {
    Operand<TFloat32> c = tf.nn.biasAdd(tf.nn.conv2d(x, v.get(0), List.of(1L, 1L, 1L, 1L), "SAME"), v.get(1));
    Operand<org.tensorflow.types.TInt32> axes = tf.constant(new int[] {0, 1, 2});
    Operand<TFloat32> mean = tf.math.mean(c, axes);
    Operand<TFloat32> var = tf.math.mean(tf.math.squaredDifference(c, mean), axes);
    moments.add(mean);
    moments.add(var);
    Operand<TFloat32> norm = tf.math.mul(tf.math.sub(c, mean), tf.math.rsqrt(tf.math.add(var, tf.constant(EPS))));
    Operand<TFloat32> bn = tf.math.add(tf.math.mul(norm, v.get(2)), v.get(3));
    Operand<TFloat32> r = tf.nn.relu(bn);
    return tf.nn.maxPool(r, tf.constant(new int[] {1, 2, 2, 1}), tf.constant(new int[] {1, 2, 2, 1}), "VALID");
  }

  private static byte[] freeze(float[][] v, float[][] bn) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> image = tf.withName("image").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, SIDE, SIDE, 1)));
      Operand<TFloat32> h = inferBlock(tf.withSubScope("block1"), image, v, bn, 0);
      h = inferBlock(tf.withSubScope("block2"), h, v, bn, 4);
      h = tf.withName("flatten").reshape(h, tf.constant(new int[] {-1, 7 * 7 * 32}));
      h = tf.withName("dense1").nn.relu(tf.nn.biasAdd(tf.linalg.matMul(h, c(tf, v, 8)), c(tf, v, 9)));
      Operand<TFloat32> logits = tf.withName("logits").identity(tf.nn.biasAdd(tf.linalg.matMul(h, c(tf, v, 10)), c(tf, v, 11)));
      tf.withName("probabilities").nn.softmax(logits);
      return g.toGraphDef().toByteArray();
    }
  }

  private static Operand<TFloat32> inferBlock(Ops tf, Operand<TFloat32> x, float[][] v, float[][] bn, int at) {
    Operand<TFloat32> conv = tf.nn.biasAdd(tf.nn.conv2d(x, c(tf, v, at), List.of(1L, 1L, 1L, 1L), "SAME"), c(tf, v, at + 1));
    int k = at / 2;
    FusedBatchNorm<TFloat32, TFloat32> b = tf.withName("batchnorm").nn.fusedBatchNorm(conv, c(tf, v, at + 2), c(tf, v, at + 3),
        tf.constant(Shape.of(bn[k].length), DataBuffers.of(bn[k], true, false)),
        tf.constant(Shape.of(bn[k + 1].length), DataBuffers.of(bn[k + 1], true, false)),
        FusedBatchNorm.isTraining(false), FusedBatchNorm.epsilon(EPS));
    Operand<TFloat32> r = tf.nn.relu(b.y());
    return tf.nn.maxPool(r, tf.constant(new int[] {1, 2, 2, 1}), tf.constant(new int[] {1, 2, 2, 1}), "VALID");
  }

  private static Operand<TFloat32> c(Ops tf, float[][] v, int i) {
    return tf.constant(Shape.of(SHAPES[i]), DataBuffers.of(v[i], true, false));
  }

  private static void shuffle(int[] a, Random rnd) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  private static void fill(Split d, int[] order, int from, float[] bx, float[] by) {
    int px = SIDE * SIDE;
    Arrays.fill(by, 0f);
    for (int i = 0; i < BATCH; i++) {
      int s = order[from + i];
      System.arraycopy(d.images(), s * px, bx, i * px, px);
      by[i * 10 + d.labels()[s]] = 1f;
    }
  }

  /** Top-1 class of every image of {@code split} under a classifier ONNX (input image:0, output logits:0). */
  public static int[] top1(dev.tftrt.convert.onnx.ModelProto m, Split split) {
    try (dev.tftrt.runtime.OnnxRunner r = new dev.tftrt.runtime.OnnxRunner(m.toByteArray(), "model")) {
      int[] all = new int[split.size()];
      for (int at = 0; at < split.size(); at += 1000) {
        int n = Math.min(1000, split.size() - at);
        int[] t = argmax(r.run(java.util.Map.of("image:0", split.batch(at, n))).get("logits:0"));
        System.arraycopy(t, 0, all, at, t.length);
      }
      return all;
    }
  }

  /** Top-1 class of each row of a [n, 10] float tensor. */
  public static int[] argmax(HostTensor t) {
    int n = (int) t.shape()[0];
    int k = (int) t.shape()[1];
    int[] r = new int[n];
    for (int i = 0; i < n; i++) {
      int best = 0;
      for (int j = 1; j < k; j++) if (t.getDouble((long) i * k + j) > t.getDouble((long) i * k + best)) best = j;
      r[i] = best;
    }
    return r;
  }

}
