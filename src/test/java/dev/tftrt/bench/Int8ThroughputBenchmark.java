package dev.tftrt.bench;

import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.precision.calibrate.CalibrationData;
import dev.tftrt.precision.calibrate.Calibrator;
import dev.tftrt.precision.calibrate.TensorRanges;
import dev.tftrt.precision.int8.Int8Options;
import dev.tftrt.precision.int8.Int8Rewrite;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.FashionMnist;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.GraphDef;

/**
 * The Fashion-MNIST classifier on ONNX Runtime CPU, FP32 against its INT8 (Q/DQ) rewrite:
 * calibration time over 500 images, then median time per batch of 100 over repeated runs.
 * Usage: Int8ThroughputBenchmark [runs].
 */
public final class Int8ThroughputBenchmark {
  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 50;
    GraphDef gd = GraphDef.parseFrom(Files.readAllBytes(FashionMnist.model()));
    ModelProto fp32 = new OnnxExporter(dev.tftrt.convert.ops.StandardConverters.registry()).export(gd, List.of("image:0"), List.of("logits:0"));
    FashionMnist.Split train = FashionMnist.train();
    List<Map<String, HostTensor>> samples = new ArrayList<>();
    for (int b = 0; b < 5; b++) samples.add(Map.of("image", train.batch(b * 100, 100)));
    Int8Options o = new Int8Options(Calibrator.ENTROPY, Calibrator.DEFAULT_PERCENTILE, null, null, null, Int8Options.Rest.FP32, 100);
    long t0 = System.nanoTime();
    TensorRanges r = Int8Rewrite.calibrate(fp32, CalibrationData.of(samples), o);
    ModelProto int8 = Int8Rewrite.apply(fp32, r, o);
    System.out.printf("calibration (entropy, 500 images) + rewrite: %.2f s%n", (System.nanoTime() - t0) / 1e9);
    HostTensor batch = FashionMnist.test().batch(0, 100);
    double a = median(fp32, batch, runs);
    double q = median(int8, batch, runs);
    System.out.printf("batch of 100: FP32 %.2f ms, INT8 %.2f ms median over %d runs; INT8 throughput %.2fx FP32%n",
        a, q, runs, a / q);
  }

  static double median(ModelProto m, HostTensor batch, int runs) {
    try (OnnxRunner r = new OnnxRunner(m.toByteArray(), "model")) {
      for (int i = 0; i < 5; i++) r.run(Map.of("image:0", batch));
      double[] t = new double[runs];
      for (int i = 0; i < runs; i++) {
        long s = System.nanoTime();
        r.run(Map.of("image:0", batch));
        t[i] = (System.nanoTime() - s) / 1e6;
      }
      Arrays.sort(t);
      return t[runs / 2];
    }
  }
}
