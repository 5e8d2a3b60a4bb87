package dev.tftrt.demo;

import dev.tftrt.TftrtException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
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
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.types.TFloat32;

/**
 * A small but real image classifier built with TensorFlow Java: two convolution blocks with
 * batch normalisation, then two dense layers, every weight a variable initialised from a
 * seed. Saved as a SavedModel with signature serving_default: image float32[?,16,16,3] →
 * logits, probabilities float32[?,10].
 */
public final class DemoModel {
  public static final String SIGNATURE = "serving_default";

  private DemoModel() {}

  public static void save(Path dir, long seed) {
    Random rnd = new Random(seed);
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> image = tf.withName("image").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, 16, 16, 3)));
      Operand<TFloat32> x = convBlock(tf, "block1", image, 3, 8, rnd);
      x = convBlock(tf, "block2", x, 8, 16, rnd);
      x = tf.withName("flatten").reshape(x, tf.constant(new int[] {-1, 4 * 4 * 16}));
      x = tf.nn.relu(dense(tf, "dense1", x, 256, 32, rnd));
      Operand<TFloat32> logits = tf.withName("logits").identity(dense(tf, "dense2", x, 32, 10, rnd));
      Operand<TFloat32> probs = tf.withName("probabilities").nn.softmax(logits);
      try (Session s = new Session(g)) {
        s.initialize();
        Signature sig = Signature.builder().key(SIGNATURE).input("image", image)
            .output("logits", logits).output("probabilities", probs).build();
        SavedModelBundle.exporter(dir.toString()).withSession(s).withSignature(sig).export();
      }
    } catch (IOException e) {
      throw new TftrtException("cannot write the demo model to " + dir + ": " + e.getMessage() + ".", e);
    }
  }

  private static Operand<TFloat32> convBlock(Ops tf, String name, Operand<TFloat32> x, int cin,
      int cout, Random rnd) {
    Ops s = tf.withSubScope(name);
    Variable<TFloat32> kernel = var(s, "kernel", rnd, (float) Math.sqrt(2.0 / (9 * cin)), 3, 3, cin, cout);
    Operand<TFloat32> y = s.nn.conv2d(x, kernel, List.of(1L, 1L, 1L, 1L), "SAME");
    FusedBatchNorm<TFloat32, TFloat32> bn = s.withName("batchnorm").nn.fusedBatchNorm(y,
        var(s, "gamma", rnd, 0.1f, 1f, cout), var(s, "beta", rnd, 0.1f, 0f, cout),
        var(s, "moving_mean", rnd, 0.1f, 0f, cout), var(s, "moving_variance", rnd, 0.1f, 1f, cout),
        FusedBatchNorm.isTraining(false), FusedBatchNorm.epsilon(1e-3f));
    Operand<TFloat32> r = s.nn.relu(bn.y());
    return s.nn.maxPool(r, s.constant(new int[] {1, 2, 2, 1}), s.constant(new int[] {1, 2, 2, 1}), "VALID");
  }

  private static Operand<TFloat32> dense(Ops tf, String name, Operand<TFloat32> x, int in, int out,
      Random rnd) {
    Ops s = tf.withSubScope(name);
    Variable<TFloat32> w = var(s, "kernel", rnd, (float) Math.sqrt(2.0 / in), in, out);
    Variable<TFloat32> b = var(s, "bias", rnd, 0.05f, out);
    return s.nn.biasAdd(s.linalg.matMul(x, w), b);
  }

  private static Variable<TFloat32> var(Ops tf, String name, Random rnd, float scale, long... shape) {
    return var(tf, name, rnd, scale, 0f, shape);
  }

  /** A variable initialised to center + scale * N(0,1), kept positive for a variance. */
  private static Variable<TFloat32> var(Ops tf, String name, Random rnd, float scale, float center,
      long... shape) {
    int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = center + scale * (float) rnd.nextGaussian();
      if (name.equals("moving_variance")) v[i] = Math.abs(v[i]) + 0.1f;
    }
    return tf.withName(name).variable(tf.constant(Shape.of(shape), DataBuffers.of(v, true, false)));
  }
}
