package dev.tftrt.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.build.BuildOptions;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.demo.DemoModel;
import dev.tftrt.model.ConvertedModel;
import dev.tftrt.model.Payloads;
import dev.tftrt.precision.calibrate.CalibrationData;
import dev.tftrt.precision.calibrate.Calibrator;
import dev.tftrt.precision.int8.Int8Options;
import dev.tftrt.precision.int8.Int8Rewrite;
import dev.tftrt.runtime.TftrtModel;
import dev.tftrt.runtime.backend.Backend;
import dev.tftrt.runtime.backend.TensorRtSettings;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.Cli;
import dev.tftrt.testing.FashionMnist;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TensorRT engines built from the precision stage's FP16 ONNX (demo model, DeepLab) and from
 * Int8Rewrite's Q/DQ ONNX (the Fashion-MNIST classifier), run on the GPU and compared with ONNX
 * Runtime on the CPU running the very same ONNX. TensorRT 11 is strongly typed: the network is
 * created with no flags (kSTRONGLY_TYPED is ignored, always on) and no precision builder flag
 * exists, so these engines compute in FP16 / INT8 only because the ONNX declares it (Casts,
 * FP16 initializers; QuantizeLinear/DequantizeLinear with zero points of 0). Skipped, with the
 * reason, where nvidia-smi finds no GPU or the gpu profile's natives are absent.
 */
@Tag("gpu")
class TensorRtPrecisionGpuTest {
  @TempDir static Path shared;

  @BeforeEach
  void gpu() {
    GpuTests.assumeGpu();
    // builds at run time (the INT8 engine's fixed batch) go to a cache of this test's own
    TensorRtSettings.set(new TensorRtSettings(shared.resolve("engines"), BuildOptions.builder()
        .timingCacheDir(shared.resolve("timing")).build(), false));
  }

  static HostTensor gaussian(long seed, long... shape) {
    Random r = new Random(seed);
    int n = 1;
    for (long d : shape) n *= (int) d;
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
    return HostTensor.ofFloats(shape, v);
  }

  static String precisionOf(Path dir) {
    ConvertedModel.Manifest m = ConvertedModel.readManifest(dir);
    return Payloads.find(m, m.engines().get(0).name(), Payloads.ONNX).orElseThrow().precision();
  }

  @Test
  void demoFp16EnginesAgreeWithOnnxRuntimeOnTheSameFp16Onnx() {
    Path model = shared.resolve("demo");
    DemoModel.save(model, 1);
    Path out = shared.resolve("demo16");
    Cli.Result c = Cli.run("convert", model.toString(), "-o", out.toString(), "--precision", "fp16",
        "--backend", "onnxruntime");
    assertEquals(0, c.code(), c.toString());
    assertEquals("fp16", precisionOf(out));
    Cli.Result b = Cli.run("build", out.toString(), "--shape-range", TensorRtGpuTest.RANGE, "--timing-cache",
        shared.resolve("timing").toString());
    assertEquals(0, b.code(), b.toString());
    try (TftrtModel trt = TftrtModel.load(out, Backend.TENSORRT); TftrtModel ort = TftrtModel.load(out, Backend.ONNXRUNTIME)) {
      assertTrue(trt.backends().values().stream().allMatch("tensorrt"::equals), trt.backends().toString());
      for (int batch : new int[] {1, 8, 32}) {
        Map<String, HostTensor> feed = Map.of("image", gaussian(batch, batch, 16, 16, 3));
        Map<String, HostTensor> want = ort.run(feed), got = trt.run(feed);
        // both compute in FP16 (half's 11-bit mantissa): the README's FP16 tolerance
        for (String k : want.keySet()) TensorRtGpuTest.assertClose(want.get(k), got.get(k), 2e-2, 2e-2);
      }
    }
  }

  @Test
  void deeplabFp16LabelsAgreeWithOnnxRuntime() {
    Path deeplab = dev.tftrt.testing.TestModels.shared("deeplab-mnv2-portrait/frozen_inference_graph.pb");
    Path out = shared.resolve("deeplab16");
    Cli.Result c = Cli.run("convert", deeplab.toString(), "-o", out.toString(), "--shape", "ImageTensor=1,257,257,3",
        "--precision", "fp16", "--backend", "onnxruntime", "--build");
    assertEquals(0, c.code(), c.toString());
    assertEquals("fp16", precisionOf(out));
    HostTensor img = TensorRtGpuTest.deeplabImage(11);
    try (TftrtModel trt = TftrtModel.load(out, Backend.TENSORRT); TftrtModel ort = TftrtModel.load(out, Backend.ONNXRUNTIME)) {
      // per-pixel labels: the precision stage's own FP16 bar is 95% against FP32; FP16 against FP16, more
      TensorRtGpuTest.assertElementsAgree(ort.run(Map.of("ImageTensor", img)), trt.run(Map.of("ImageTensor", img)), 0.98);
    }
  }

  /**
   * The converted classifier with its engine's ONNX replaced by the Q/DQ ONNX Int8Rewrite makes
   * from it (entropy calibration on 500 training images), listed like any payload, so that both
   * backends run that ONNX.
   */
  static Path int8Classifier(Path out) throws Exception {
    Path frozen = FashionMnist.model();
    Cli.Result c = Cli.run("convert", frozen.toString(), "-o", out.toString(), "--outputs", "logits:0",
        "--backend", "onnxruntime", "--no-verify");
    assertEquals(0, c.code(), c.toString());
    ConvertedModel.Manifest m = ConvertedModel.readManifest(out);
    assertEquals(1, m.engines().size(), "the classifier converts into one engine: " + m.engines());
    String engine = m.engines().get(0).name();
    ModelProto fp32 = ModelProto.parseFrom(Payloads.read(out, engine, Payloads.find(m, engine, Payloads.ONNX).orElseThrow()));
    FashionMnist.Split train = FashionMnist.train();
    List<Map<String, HostTensor>> samples = new ArrayList<>();
    for (int b = 0; b < 5; b++) samples.add(Map.of("image", train.batch(b * 100, 100)));
    Int8Options o = new Int8Options(Calibrator.ENTROPY, Calibrator.DEFAULT_PERCENTILE, null, null, null,
        Int8Options.Rest.FP32, 100);
    ModelProto int8 = Int8Rewrite.apply(fp32, Int8Rewrite.calibrate(fp32, CalibrationData.of(samples), o), o);
    assertTrue(int8.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("QuantizeLinear")));
    // same kind, same (empty) key: the ONNX entry is replaced; the seal is written again
    dev.tftrt.util.FolderSeal.update(out, d -> Payloads.add(d, engine, Payloads.ONNX, int8.toByteArray(), "int8", Map.of()));
    return out;
  }

  @Test
  void fashionMnistInt8EngineKeepsOnnxRuntimesTop1() throws Exception {
    FashionMnist.requireData();
    Path out = int8Classifier(shared.resolve("fmnist8"));
    assertEquals("int8", precisionOf(out));
    FashionMnist.Split test = FashionMnist.test();
    int n = 2000, same = 0;
    try (TftrtModel trt = TftrtModel.load(out, Backend.TENSORRT); TftrtModel ort = TftrtModel.load(out, Backend.ONNXRUNTIME)) {
      assertTrue(trt.backends().values().stream().allMatch("tensorrt"::equals), trt.backends().toString());
      for (int at = 0; at < n; at += 100) { // one batch size: the engine's fixed profile is the first call's
        Map<String, HostTensor> feed = Map.of("image", test.batch(at, 100));
        int[] want = FashionMnist.argmax(ort.run(feed).values().iterator().next());
        int[] got = FashionMnist.argmax(trt.run(feed).values().iterator().next());
        for (int i = 0; i < want.length; i++) if (want[i] == got[i]) same++;
      }
    }
    double agree = 100.0 * same / n;
    System.out.printf("INT8 TensorRT vs INT8 ONNX Runtime: top-1 agreement %.2f%% on %d test images%n", agree, n);
    // the same scales on both sides; TensorRT's fused INT8 kernels round differently (FP32 vs INT8 is 99.46%+)
    assertTrue(agree >= 99, "top-1 agreement " + agree + "%");
  }
}
