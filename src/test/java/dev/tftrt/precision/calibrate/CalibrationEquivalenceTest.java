package dev.tftrt.precision.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.convert.TfBuilder;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.precision.int8.Int8Rewrite;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.FashionMnist;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;

/**
 * The fast calibration (pinned outputs, the probe without layout optimisations, histograms on
 * a thread of their own overlapping the next batch) gives the amax values, bit for bit, of the
 * plain loop it replaced: the probe run in the runtime's OnnxRunner at ONNX Runtime's defaults,
 * outputs copied to the heap, histograms taken one batch after the other.
 */
class CalibrationEquivalenceTest {
  /** The calibration loop as it was, on the same (proven identical) histogram. */
  static Map<String, Double> plainLoop(ModelProto segment, List<Map<String, HostTensor>> samples, Calibrator c,
      List<String> tensors, int batch) {
    Map<String, Histogram> hist = new LinkedHashMap<>();
    for (String t : tensors) hist.put(t, new Histogram());
    ModelProto probe = Calibration.withOutputs(segment, new LinkedHashSet<>(tensors));
    try (OnnxRunner ort = new OnnxRunner(probe.toByteArray(), "probe")) {
      for (Map<String, HostTensor> s : samples) {
        HostTensor x = s.values().iterator().next();
        String name = ort.inputs().get(0).key();
        long n = x.shape()[0];
        long fixed = ort.inputs().get(0).shape()[0];
        long step = fixed > 0 ? fixed : Math.min(n, batch);
        for (long at = 0; at < n; at += step) {
          Map<String, HostTensor> out = ort.run(Map.of(name, Calibration.slice(x, at, Math.min(step, n - at))));
          for (Map.Entry<String, Histogram> h : hist.entrySet()) {
            HostTensor v = out.get(h.getKey());
            if (v == null || v.dtype() != DataType.DT_FLOAT) continue;
            h.getValue().add(v.data().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer());
          }
        }
      }
    }
    Map<String, Double> amax = new LinkedHashMap<>();
    hist.forEach((t, h) -> {
      if (h.total() > 0) amax.put(t, c.amax(h, Calibrator.DEFAULT_PERCENTILE));
    });
    return amax;
  }

  static void assertSame(ModelProto m, List<Map<String, HostTensor>> samples, int batch) {
    List<String> tensors = Int8Rewrite.tensorsToCalibrate(m);
    for (Calibrator c : new Calibrator[] {Calibrator.PERCENTILE, Calibrator.ENTROPY}) {
      Map<String, Double> want = plainLoop(m, samples, c, tensors, batch);
      TensorRanges got = Calibration.collect(m, CalibrationData.of(samples), c, Calibrator.DEFAULT_PERCENTILE, tensors, batch);
      assertFalse(want.isEmpty());
      assertEquals(want.keySet(), got.amax().keySet(), c.label());
      for (String t : want.keySet()) {
        assertEquals(Double.doubleToLongBits(want.get(t)), Double.doubleToLongBits(got.amax().get(t)),
            c.label() + " amax of " + t + ": " + want.get(t) + " before, " + got.amax().get(t) + " now");
      }
    }
  }

  /** A residual conv net fed in batches of 3 from samples of 4: full and partial batches alternate slots. */
  @Test
  void smallConvNetInFullAndPartialBatches() {
    Random r = new Random(9);
    ModelProto m;
    try (TfBuilder b = new TfBuilder()) {
      Output<?> x = b.placeholder("x", DataType.DT_FLOAT, -1, 8, 8, 4);
      Output<?> c1 = b.op("Relu").in(conv(b, x, r)).out();
      Output<?> sum = b.op("AddV2").in(conv(b, c1, r), c1).out();
      Output<?> pool = b.op("MaxPool").in(sum).attr("ksize", new long[] {1, 2, 2, 1}).attr("strides", new long[] {1, 2, 2, 1})
          .attr("padding", "VALID").out();
      Output<?> flat = b.op("Reshape").in(pool, b.ints(-1, 64)).out();
      b.op("MatMul").name("logits").in(flat, b.floats(new long[] {64, 5}, gaussian(r, 64 * 5, 0.1f))).build();
      m = new OnnxExporter(dev.tftrt.convert.ops.StandardConverters.registry()).export(b.graphDef(), List.of("x:0"),
          List.of("logits:0"));
    }
    List<Map<String, HostTensor>> samples = new ArrayList<>();
    for (int k = 0; k < 5; k++) {
      float[] v = new float[4 * 8 * 8 * 4];
      for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * (1 + k));
      samples.add(Map.of("x", HostTensor.ofFloats(new long[] {4, 8, 8, 4}, v)));
    }
    assertSame(m, samples, 3);
  }

  static Output<?> conv(TfBuilder b, Output<?> x, Random r) {
    return b.op("Conv2D").in(x, b.floats(new long[] {3, 3, 4, 4}, gaussian(r, 3 * 3 * 4 * 4, 0.3f)))
        .attr("strides", new long[] {1, 1, 1, 1}).attr("padding", "SAME").out();
  }

  static float[] gaussian(Random r, int n, float sd) {
    float[] w = new float[n];
    for (int i = 0; i < n; i++) w[i] = (float) r.nextGaussian() * sd;
    return w;
  }

  /** The trained Fashion-MNIST classifier (16- and 32-channel convs, where ONNX Runtime's NCHWc kernels apply). */
  @Test
  void fashionMnistClassifier() throws Exception {
    GraphDef gd = GraphDef.parseFrom(Files.readAllBytes(FashionMnist.model()));
    ModelProto m = new OnnxExporter(dev.tftrt.convert.ops.StandardConverters.registry()).export(gd, List.of("image:0"),
        List.of("logits:0"));
    FashionMnist.Split train = FashionMnist.train();
    List<Map<String, HostTensor>> samples = new ArrayList<>();
    for (int b = 0; b < 3; b++) samples.add(Map.of("image", train.batch(b * 100, 100)));
    assertSame(m, samples, 32);
  }
}
