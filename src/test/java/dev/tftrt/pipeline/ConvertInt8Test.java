package dev.tftrt.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.precision.Precision;
import dev.tftrt.precision.calibrate.CalibrationCache;
import dev.tftrt.precision.calibrate.Calibrator;
import dev.tftrt.precision.calibrate.Preprocess;
import dev.tftrt.precision.calibrate.TensorRanges;
import dev.tftrt.precision.int8.Int8Options;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.Npz;
import dev.tftrt.testing.TfGraphs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * INT8 through the Java API, on a graph whose engine reads an intermediate tensor: {@code x * 3}
 * stays in TensorFlow (--exclude-nodes), so calibration data given for {@code x} must go
 * through TensorFlow before it reaches the engine. And the bad inputs, one sentence each.
 */
class ConvertInt8Test {
  static final float SCALE = 3f;
  @TempDir static Path dir;
  static Path model;

  @BeforeAll
  static void write() throws Exception {
    Random rnd = new Random(5);
    List<NodeDef> n = new ArrayList<>();
    n.add(TfGraphs.placeholder("x", DataType.DT_FLOAT, -1, 16));
    n.add(TfGraphs.constant("three", HostTensor.ofFloats(new long[0], SCALE)));
    n.add(TfGraphs.op("Mul", "scaled", "x", "three"));
    n.add(TfGraphs.constant("w1", HostTensor.ofFloats(new long[] {16, 32}, random(rnd, 16 * 32))));
    n.add(matmul("mm1", "scaled", "w1"));
    n.add(TfGraphs.constant("b1", HostTensor.ofFloats(new long[] {32}, random(rnd, 32))));
    n.add(TfGraphs.op("BiasAdd", "add1", "mm1", "b1"));
    n.add(TfGraphs.op("Relu", "r1", "add1"));
    n.add(TfGraphs.constant("w2", HostTensor.ofFloats(new long[] {32, 8}, random(rnd, 32 * 8))));
    n.add(matmul("mm2", "r1", "w2"));
    n.add(TfGraphs.op("Identity", "y", "mm2"));
    GraphDef g = TfGraphs.graph(n);
    model = dir.resolve("prefix.pb");
    Files.write(model, g.toByteArray());
  }

  static NodeDef matmul(String name, String a, String b) {
    AttrValue no = AttrValue.newBuilder().setB(false).build();
    return TfGraphs.op("MatMul", name, a, b).toBuilder().putAttr("transpose_a", no).putAttr("transpose_b", no).build();
  }

  static float[] random(Random r, int n) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * 0.5);
    return v;
  }

  static HostTensor x(int rows, long seed) {
    return HostTensor.ofFloats(new long[] {rows, 16}, random(new Random(seed), rows * 16));
  }

  static ConvertJob.Builder job(Path out) {
    return ConvertJob.builder(LoadOptions.of(model).withOutputs(List.of("y")), out)
        .segments(new Segmenter.Options(3, Integer.MAX_VALUE, Set.of(), Set.of("scaled")))
        .precision(Precision.INT8);
  }

  static Int8Options max(Path cache) {
    return new Int8Options(Calibrator.MAX, Calibrator.DEFAULT_PERCENTILE, null, cache, Preprocess.NONE,
        Int8Options.Rest.FP32, 16);
  }

  @Test
  void theEngineIsCalibratedOnWhatTensorFlowComputesBeforeIt() throws Exception {
    List<Map<String, HostTensor>> samples = new ArrayList<>();
    for (int b = 0; b < 5; b++) samples.add(Map.of("x", x(20, b)));
    Path cache = dir.resolve("prefix-cache.json");
    ConvertJob.Report r = ConvertJob.run(job(dir.resolve("prefix")).int8(max(cache)).calibrationSamples(samples).build());
    assertEquals(1, r.engines().size());
    assertEquals(List.of("scaled:0"), r.engines().get(0).segment().inputs(), "the engine reads no model input");
    // 100 rows: the last 20 held out, the first 80 calibrated
    assertEquals(80, r.calibration().calibratedRows());
    assertEquals(20, r.calibration().heldOutRows());
    double maxX = 0;
    for (int b = 0; b < 4; b++) {
      HostTensor t = samples.get(b).get("x");
      for (long i = 0; i < t.numElements(); i++) maxX = Math.max(maxX, Math.abs(t.getDouble(i)));
    }
    TensorRanges ranges = CalibrationCache.read(cache).get(0);
    // max calibration of the engine's input saw 3 * x, as TensorFlow computes it, not x itself
    assertEquals(SCALE * maxX, ranges.amax().get("scaled:0"), 1e-5 * SCALE * maxX, ranges.amax().toString());
    assertNotNull(r.accuracy());
    assertTrue(r.accuracy().get(0).cosine() > 0.999, r.accuracy().toString());
    assertTrue(r.engines().get(0).precision().against().contains("held out"), r.engines().get(0).precision().against());
  }

  @Test
  void anFp16RestPutsNoCastBetweenQdqAndTheOpsTensorRtFusesThemInto() {
    List<Map<String, HostTensor>> samples = List.of(Map.of("x", x(50, 9)));
    Int8Options o = new Int8Options(Calibrator.MAX, 99.99, null, null, null, Int8Options.Rest.FP16, 16);
    ConvertJob.Report r = ConvertJob.run(job(dir.resolve("fp16rest")).int8(o).calibrationSamples(samples).build());
    var g = r.engines().get(0).onnx().getGraph();
    Map<String, String> producer = new java.util.HashMap<>();
    for (var n : g.getNodeList()) for (String v : n.getOutputList()) producer.put(v, n.getOpType());
    int dq = 0;
    int half = 0;
    for (var n : g.getNodeList()) {
      for (String in : n.getInputList()) {
        if ("DequantizeLinear".equals(producer.get(in))) {
          dq++;
          assertFalse(n.getOpType().equals("Cast"), "a Cast reads " + in + ": TensorRT cannot fuse the DQ into its op");
        }
      }
      if (n.getOpType().equals("Add") || n.getOpType().equals("Relu")) {
        assertFalse("Cast".equals(producer.get(n.getInput(0))), "a Cast between an INT8 op and its bias or activation: " + n.getName());
      }
      if (n.getOpType().equals("QuantizeLinear")) {
        assertFalse("Cast".equals(producer.get(n.getInput(0))), "a Cast feeds " + n.getName() + ": no fusion into its producer");
      }
      if (n.getOpType().equals("Cast")) half++;
    }
    assertEquals(4, dq, "two MatMuls, each with Q/DQ on data and weights");
    assertTrue(half > 0, "the rest is FP16: " + r.engines().get(0).precision().table().counts());
    assertTrue(r.engines().get(0).precision().table().counts().get("int8") == 2, r.engines().get(0).precision().table().counts().toString());
  }

  static String refusal(ConvertJob.Builder b, Path out) {
    TftrtException e = assertThrows(TftrtException.class, () -> ConvertJob.run(b.build()));
    assertFalse(Files.exists(out), "nothing written to " + out);
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    return e.getMessage();
  }

  @Test
  void dataThatDoesNotFitTheInputsIsOneSentence() throws Exception {
    Path out = dir.resolve("bad");
    Path cache = dir.resolve("bad-cache.json");
    String name = refusal(job(out).int8(max(cache)).calibrationSamples(List.of(Map.of("z", x(4, 1)))), out);
    assertEquals("the calibration samples sample 0 has no array for input x (it holds z).", name);
    String dtype = refusal(job(out).int8(max(cache)).calibrationSamples(
        List.of(Map.of("x", HostTensor.ofInts(new long[] {4, 16}, new int[64])))), out);
    assertEquals("the calibration samples sample 0 gives input x as int32, but the model takes float32.", dtype);
    String shape = refusal(job(out).int8(max(cache)).calibrationSamples(
        List.of(Map.of("x", HostTensor.ofFloats(new long[] {4, 15}, new float[60])))), out);
    assertTrue(shape.contains("gives input x the shape [4, 15], but the model takes [?, 16]"), shape);
    assertFalse(Files.exists(cache));
  }

  @Test
  void foldersAndCachesThatCannotServeAreOneSentence() throws Exception {
    Path out = dir.resolve("bad2");
    Path empty = Files.createDirectories(dir.resolve("empty"));
    String e = refusal(job(out).int8(new Int8Options(Calibrator.MAX, 99.99, empty, null, null, null, 16)), out);
    assertEquals("Calibration data folder " + empty + " holds no .npy, .npz, PNG or JPEG files.", e);

    Path images = Files.createDirectories(dir.resolve("images"));
    Files.write(images.resolve("a.png"), new byte[] {1, 2, 3});
    String img = refusal(job(out).int8(new Int8Options(Calibrator.MAX, 99.99, images, null, null, null, 16)), out);
    assertTrue(img.startsWith("Calibration image " + images.resolve("a.png")), img);

    // a cache made for another model's segment
    Path other = dir.resolve("other-cache.json");
    CalibrationCache.write(other, List.of(new TensorRanges("max", "00", "ab".repeat(32), 1, Map.of("t", 1.0))));
    Path npz = dir.resolve("x.npz");
    Npz.write(Map.of("x", x(10, 3)), npz);
    String c = refusal(job(out).int8(new Int8Options(Calibrator.MAX, 99.99, npz, other, null, null, 16)), out);
    assertTrue(c.startsWith("Calibration cache " + other + " was made for another segment"), c);
  }
}
