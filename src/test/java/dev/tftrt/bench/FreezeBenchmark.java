package dev.tftrt.bench;

import dev.tftrt.pipeline.FreezeJob;
import dev.tftrt.model.LoadOptions;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Freezes a SavedModel holding about 100 MB of float32 weights (six 2048x2048 dense layers,
 * initialised by random ops so the graph itself stays small) and prints the wall time and the
 * peak Java heap. Run under -Xmx2g to show it fits (see README, "Benchmarks").
 */
public final class FreezeBenchmark {
  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("tftrt-freeze-bench-");
    Path model = dir.resolve("saved_model");
    long weights = build(model);
    System.out.printf("model: %s, %.1f MB of weights%n", model, weights * 4 / 1e6);
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) p.resetPeakUsage();
    long t0 = System.nanoTime();
    FreezeJob.Report r = FreezeJob.run(new FreezeJob.Options(LoadOptions.of(model),
        dir.resolve("frozen.pb"), true, 0, Map.of()));
    double secs = (System.nanoTime() - t0) / 1e9;
    long peak = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP) peak += p.getPeakUsage().getUsed();
    }
    System.out.printf("freeze + verify + write: %.2f s, peak heap %.0f MB (max heap %.0f MB), frozen.pb %.1f MB, verified %s%n",
        secs, peak / 1e6, Runtime.getRuntime().maxMemory() / 1e6,
        Files.size(dir.resolve("frozen.pb")) / 1e6, r.verification().identical() ? "bit-identical" : "within rounding");
  }

  static long build(Path dir) throws Exception {
    int in = 2048;
    int out = 2048;
    int layers = 6;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, in)));
      Operand<TFloat32> h = x;
      long count = 0;
      for (int i = 0; i < layers; i++) {
        Ops s = tf.withSubScope("dense" + i);
        int rows = i == 0 ? in : out;
        Operand<TFloat32> init = s.math.mul(s.random.randomUniform(s.constant(new long[] {rows, out}), TFloat32.class),
            s.constant(0.01f));
        h = s.nn.relu(s.linalg.matMul(h, s.withName("kernel").variable(init)));
        count += (long) rows * out;
      }
      try (Session sess = new Session(g)) {
        sess.initialize();
        SavedModelBundle.exporter(dir.toString()).withSession(sess)
            .withSignature(Signature.builder().key("serving_default").input("x", x).output("y", h).build())
            .export();
      }
      return count;
    }
  }

  private FreezeBenchmark() {}

}
