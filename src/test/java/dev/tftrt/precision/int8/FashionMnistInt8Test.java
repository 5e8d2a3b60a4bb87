package dev.tftrt.precision.int8;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.precision.calibrate.CalibrationCache;
import dev.tftrt.precision.calibrate.CalibrationData;
import dev.tftrt.precision.calibrate.Calibrator;
import dev.tftrt.precision.calibrate.TensorRanges;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.FashionMnist;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.GraphDef;

/**
 * INT8 post-training quantization of the classifier the project trains on Fashion-MNIST:
 * calibrated on 500 training images, measured on the whole 10k test split against the FP32
 * ONNX model, both in ONNX Runtime (the Q/DQ arithmetic is ONNX Runtime's own).
 */
class FashionMnistInt8Test {
  static final String IN = "image:0";
  static final String OUT = "logits:0";
  static ModelProto fp32;
  static FashionMnist.Split test;
  static int[] fp32Top1;
  static CalibrationData calib;

  @BeforeAll
  static void setUp() throws Exception {
    Path model = FashionMnist.model();
    GraphDef gd = GraphDef.parseFrom(Files.readAllBytes(model));
    fp32 = new OnnxExporter(dev.tftrt.convert.ops.StandardConverters.registry()).export(gd, List.of(IN), List.of(OUT));
    test = FashionMnist.test();
    fp32Top1 = top1(fp32);
    FashionMnist.Split train = FashionMnist.train();
    List<Map<String, HostTensor>> samples = new ArrayList<>();
    for (int b = 0; b < 5; b++) samples.add(Map.of("image", train.batch(b * 100, 100)));
    calib = CalibrationData.of(samples);
  }

  static int[] top1(ModelProto m) {
    return FashionMnist.top1(m, test);
  }


  static double accuracy(int[] top1) {
    int ok = 0;
    for (int i = 0; i < top1.length; i++) if (top1[i] == test.labels()[i]) ok++;
    return 100.0 * ok / top1.length;
  }

  static double agreement(int[] a, int[] b) {
    int same = 0;
    for (int i = 0; i < a.length; i++) if (a[i] == b[i]) same++;
    return 100.0 * same / a.length;
  }

  @Test
  void theTrainedClassifierIsWorthQuantizing() {
    assertTrue(accuracy(fp32Top1) >= 85, "FP32 accuracy " + accuracy(fp32Top1));
  }

  @Test
  void entropyAndPercentileKeepTop1() {
    for (Calibrator c : new Calibrator[] {Calibrator.ENTROPY, Calibrator.PERCENTILE}) {
      Int8Options o = new Int8Options(c, Calibrator.DEFAULT_PERCENTILE, null, null, null, Int8Options.Rest.FP32, 100);
      TensorRanges r = Int8Rewrite.calibrate(fp32, calib, o);
      assertEquals(500, r.samples());
      ModelProto int8 = Int8Rewrite.apply(fp32, r, o);
      // every conv and matmul is fed by Q/DQ on both its data and its weights
      long convs = int8.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Conv") || n.getOpType().equals("MatMul")).count();
      long dq = int8.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("DequantizeLinear")).count();
      assertEquals(4, convs);
      assertTrue(dq >= 2 * convs, dq + " DequantizeLinear for " + convs + " convs and matmuls");
      int[] q = top1(int8);
      double agree = agreement(fp32Top1, q);
      double drop = accuracy(fp32Top1) - accuracy(q);
      System.out.printf("INT8 %s: top-1 agreement %.2f%%, accuracy %.2f%% (FP32 %.2f%%)%n", c.label(), agree,
          accuracy(q), accuracy(fp32Top1));
      // Issue #10's bar for both. The trained network differs between machines and runs; over
      // five of them (seeds 1, 2, 7, oneDNN on and off, a fresh clone's): entropy 99.51-99.60%,
      // percentile 99.38-99.56%.
      assertTrue(agree >= 99, c.label() + " top-1 agreement " + agree);
      assertTrue(drop <= 1, c.label() + " accuracy drop " + drop);
    }
  }

  /**
   * --accuracy-budget with INT8: a budget the quantized classifier misses raises its most
   * sensitive ops (int8 to fp32 here), round by round, until every output's cosine holds it;
   * a raised op reads no DequantizeLinear any more.
   */
  @Test
  void accuracyBudgetRaisesTheMostSensitiveOps() {
    Int8Options o = new Int8Options(Calibrator.MAX, Calibrator.DEFAULT_PERCENTILE, null, null, null, Int8Options.Rest.FP32, 100);
    TensorRanges r = Int8Rewrite.calibrate(fp32, calib, o);
    List<Map<String, HostTensor>> held = List.of(Map.of(IN, test.batch(0, 200)));
    dev.tftrt.precision.PrecisionStage.Report none = dev.tftrt.precision.PrecisionStage.int8(fp32, r, Int8Options.Rest.FP32,
        java.util.Set.of(), held, "200 test images", 1, "classifier");
    double without = dev.tftrt.precision.Accuracy.minCosine(none.accuracy());
    assertTrue(none.reverted().isEmpty());
    assertTrue(without < 0.99995, "already within the budget: " + without);
    dev.tftrt.precision.PrecisionStage.Report within = dev.tftrt.precision.PrecisionStage.int8(fp32, r,
        Int8Options.Rest.FP32, java.util.Set.of(), 0.99995, held, "200 test images", 1, "classifier");
    double with = dev.tftrt.precision.Accuracy.minCosine(within.accuracy());
    System.out.printf("INT8 max, budget 0.99995: cosine %.7f -> %.7f, raised %s%n", without, with, within.reverted());
    assertTrue(with >= 0.99995, "cosine " + with + " after raising " + within.reverted());
    assertTrue(!within.reverted().isEmpty());
    java.util.Set<String> dqOut = new java.util.HashSet<>();
    for (var n : within.model().getGraph().getNodeList()) if (n.getOpType().equals("DequantizeLinear")) dqOut.add(n.getOutput(0));
    for (String raised : within.reverted()) {
      String node = raised.substring(0, raised.indexOf(" ("));
      for (var n : within.model().getGraph().getNodeList()) {
        if (!n.getName().equals(node)) continue;
        for (String in : n.getInputList()) assertTrue(!dqOut.contains(in), node + " still reads " + in);
      }
    }
  }

  @Test
  void cacheRoundTripsByteForByteAndReproducesTheOnnx(@TempDir Path dir) throws Exception {
    Int8Options o = new Int8Options(Calibrator.ENTROPY, Calibrator.DEFAULT_PERCENTILE, null, null, null, Int8Options.Rest.FP32, 100);
    TensorRanges r = Int8Rewrite.calibrate(fp32, calib, o);
    Path cache = dir.resolve("calibration.json");
    CalibrationCache.write(cache, List.of(r));
    byte[] written = Files.readAllBytes(cache);
    List<TensorRanges> back = CalibrationCache.read(cache);
    assertArrayEquals(written, CalibrationCache.toBytes(back));
    TensorRanges again = CalibrationCache.forSegment(back, fp32, cache.toString(), "entropy");
    assertArrayEquals(Int8Rewrite.apply(fp32, r, o).toByteArray(), Int8Rewrite.apply(fp32, again, o).toByteArray());
  }
}
