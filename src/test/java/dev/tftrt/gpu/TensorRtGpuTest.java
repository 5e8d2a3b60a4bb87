package dev.tftrt.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.build.BuildOptions;
import dev.tftrt.build.Cuda;
import dev.tftrt.build.EngineProvider;
import dev.tftrt.demo.DemoModel;
import dev.tftrt.runtime.TftrtModel;
import dev.tftrt.runtime.backend.TensorRtSettings;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TensorRT engines built and run on a real GPU, for the demo model (FP32) and DeepLab (when the
 * shared model is present). Skipped, with the reason, where nvidia-smi finds no GPU or the gpu
 * profile's natives are absent. FP32 engines run with TF32 on (TensorRT's default), hence the
 * tolerance of 1e-2 relative.
 */
@Tag("gpu")
class TensorRtGpuTest {
  @TempDir static Path shared;
  static Path converted;
  static final String RANGE = "image=1,16,16,3:8,16,16,3:32,16,16,3";
  static final List<String> builds = new ArrayList<>();
  static final Handler BUILD_LOG = new Handler() {
    @Override
    public void publish(LogRecord r) {
      if (r.getMessage() != null && r.getMessage().contains("building a TensorRT engine")) {
        synchronized (builds) {
          builds.add(r.getMessage());
        }
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  /** Per test, so that each is reported skipped (a class-level abort shows as 0 tests run). */
  @BeforeEach
  void gpuAndDemoEngines() {
    GpuTests.assumeGpu();
    synchronized (TensorRtGpuTest.class) {
      if (converted == null) buildDemo();
    }
  }

  static void buildDemo() {
    Logger l = Logger.getLogger(EngineProvider.class.getName());
    l.setLevel(Level.INFO);
    l.addHandler(BUILD_LOG);
    Path model = shared.resolve("demo");
    DemoModel.save(model, 1);
    Path out = shared.resolve("converted");
    // --fallback tensorflow: the original segments are the reference the engines are compared with
    Cli.Result c = Cli.run("convert", model.toString(), "-o", out.toString(), "--backend", "onnxruntime",
        "--fallback", "tensorflow");
    assertEquals(0, c.code(), c.toString());
    Cli.Result b = Cli.run("build", out.toString(), "--shape-range", RANGE, "--timing-cache",
        shared.resolve("timing").toString());
    assertEquals(0, b.code(), b.toString());
    converted = out;
    settings(shared.resolve("user-cache"), true);
  }

  @AfterAll
  static void removeHandler() {
    Logger.getLogger(EngineProvider.class.getName()).removeHandler(BUILD_LOG);
  }

  static void settings(Path cache, boolean allowBuild) {
    TensorRtSettings.set(new TensorRtSettings(cache, BuildOptions.builder().allowBuildAtRuntime(allowBuild)
        .timingCacheDir(shared.resolve("timing")).build(), false));
  }

  static HostTensor image(int batch, long seed) {
    Random r = new Random(seed);
    float[] v = new float[batch * 16 * 16 * 3];
    for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
    return HostTensor.ofFloats(new long[] {batch, 16, 16, 3}, v);
  }

  static void assertClose(HostTensor want, HostTensor got, double rtol, double atol) {
    assertEquals(java.util.Arrays.toString(want.shape()), java.util.Arrays.toString(got.shape()));
    for (long i = 0; i < want.numElements(); i++) {
      double w = want.getDouble(i), g = got.getDouble(i);
      assertTrue(Math.abs(w - g) <= atol + rtol * Math.abs(w), "element " + i + ": TensorFlow " + w + ", TensorRT " + g);
    }
  }

  @Test
  void fp32EnginesMatchTensorFlowAtEveryBatchOfTheProfileWithoutRebuilding() {
    int before = builds.size();
    try (TftrtModel trt = TftrtModel.load(converted, dev.tftrt.runtime.backend.Backend.parse("tensorrt")); TftrtModel tf = TftrtModel.load(converted, dev.tftrt.runtime.backend.Backend.parse("tensorflow"))) {
      assertTrue(trt.backends().values().stream().allMatch("tensorrt"::equals), trt.backends().toString());
      for (int batch : new int[] {1, 8, 32}) {
        Map<String, HostTensor> feed = Map.of("image", image(batch, batch));
        Map<String, HostTensor> want = tf.run(feed), got = trt.run(feed);
        for (String k : want.keySet()) assertClose(want.get(k), got.get(k), 1e-2, 1e-3);
      }
    }
    assertEquals(before, builds.size(), "the engines tftrt build wrote must be used, not rebuilt: " + builds);
  }

  @Test
  void tftrtBuildListsItsPlansInTheManifest() {
    dev.tftrt.model.ConvertedModel.Manifest m = dev.tftrt.model.ConvertedModel.readManifest(converted);
    for (dev.tftrt.model.ConvertedModel.Engine e : m.engines()) {
      assertTrue(dev.tftrt.model.Payloads.find(m, e.name(), dev.tftrt.model.Payloads.TENSORRT_PLAN).isPresent(),
          e.name() + " has no tensorrt-plan payload: " + e.payloads());
    }
    assertTrue(dev.tftrt.util.FolderSeal.verify(converted), "the folder is sealed again after build");
  }

  @Test
  void aCorruptEngineIsRebuiltNotLoaded() throws Exception {
    Path copy = dev.tftrt.testing.TestModels.copyTree(converted, shared.resolve("corrupt"));
    Path plan;
    try (Stream<Path> s = Files.list(copy.resolve(dev.tftrt.model.Payloads.FOLDER))) {
      plan = s.filter(p -> p.toString().endsWith(".plan")).findFirst().orElseThrow(); // the listed plan
    }
    byte[] b = Files.readAllBytes(plan);
    b[b.length / 2] ^= 0x5a;
    Files.write(plan, b);
    settings(shared.resolve("fresh-cache"), true);
    int before = builds.size();
    try (TftrtModel trt = TftrtModel.load(copy, dev.tftrt.runtime.backend.Backend.parse("tensorrt")); TftrtModel tf = TftrtModel.load(copy, dev.tftrt.runtime.backend.Backend.parse("tensorflow"))) {
      // the model folder is never written at run time: the damaged plan stays, refused, and the engine is rebuilt
      assertTrue(Files.exists(plan));
      Map<String, HostTensor> feed = Map.of("image", image(1, 7));
      Map<String, HostTensor> want = tf.run(feed), got = trt.run(feed);
      for (String k : want.keySet()) assertClose(want.get(k), got.get(k), 1e-2, 1e-3);
    } finally {
      settings(shared.resolve("user-cache"), true);
    }
    assertTrue(builds.size() > before, "the engine was rebuilt");
  }

  @Test
  void eightThreadsTimesTwoHundredCallsAgree() throws Exception {
    try (TftrtModel trt = TftrtModel.load(converted, dev.tftrt.runtime.backend.Backend.parse("tensorrt"))) {
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<String>> fs = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          int thread = t;
          fs.add(pool.submit(() -> {
            Map<String, HostTensor> feed = Map.of("image", image(1 + thread, thread));
            Map<String, HostTensor> first = trt.run(feed);
            for (int i = 0; i < 200; i++) {
              Map<String, HostTensor> again = trt.run(feed);
              for (String k : first.keySet()) {
                if (!first.get(k).contentEquals(again.get(k))) return "thread " + thread + " call " + i + " differs";
              }
            }
            return "";
          }));
        }
        for (Future<String> f : fs) assertEquals("", f.get());
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void loadingAndClosingAHundredTimesDoesNotGrowGpuMemory() {
    Map<String, HostTensor> feed = Map.of("image", image(8, 3));
    try (TftrtModel warm = TftrtModel.load(converted, dev.tftrt.runtime.backend.Backend.parse("tensorrt"))) {
      warm.run(feed);
    }
    long before = Cuda.deviceMemoryUsed();
    for (int i = 0; i < 100; i++) {
      try (TftrtModel m = TftrtModel.load(converted, dev.tftrt.runtime.backend.Backend.parse("tensorrt"))) {
        m.run(feed);
      }
    }
    long grown = Cuda.deviceMemoryUsed() - before;
    assertTrue(grown < 64L << 20, "GPU memory grew by " + grown / (1 << 20) + " MiB over 100 load/close cycles");
  }

  @Test
  void deeplabFp32AgreesWithTensorFlow() {
    Path deeplab = dev.tftrt.testing.TestModels.shared("deeplab-mnv2-portrait/frozen_inference_graph.pb");
    Path out = shared.resolve("deeplab");
    Cli.Result c = Cli.run("convert", deeplab.toString(), "-o", out.toString(), "--shape", "ImageTensor=1,257,257,3",
        "--backend", "onnxruntime", "--fallback", "tensorflow", "--build");
    assertEquals(0, c.code(), c.toString());
    HostTensor img = deeplabImage(5);
    try (TftrtModel trt = TftrtModel.load(out, dev.tftrt.runtime.backend.Backend.parse("tensorrt")); TftrtModel tf = TftrtModel.load(out, dev.tftrt.runtime.backend.Backend.parse("tensorflow"))) {
      assertElementsAgree(tf.run(Map.of("ImageTensor", img)), trt.run(Map.of("ImageTensor", img)), 0.99);
    }
  }

  /** A random uint8 image of DeepLab's 1x257x257x3 input. */
  static HostTensor deeplabImage(long seed) {
    byte[] px = new byte[257 * 257 * 3];
    new Random(seed).nextBytes(px);
    return HostTensor.of(org.tensorflow.proto.DataType.DT_UINT8, new long[] {1, 257, 257, 3}, java.nio.ByteBuffer.wrap(px));
  }

  /** At least this fraction of each output's elements (labels, pixels) is exactly the same. */
  static void assertElementsAgree(Map<String, HostTensor> want, Map<String, HostTensor> got, double fraction) {
    for (String k : want.keySet()) {
      HostTensor w = want.get(k), g = got.get(k);
      long same = 0;
      for (long i = 0; i < w.numElements(); i++) if (w.getDouble(i) == g.getDouble(i)) same++;
      assertTrue(same >= fraction * w.numElements(), k + ": only " + same + " of " + w.numElements() + " elements agree");
    }
  }
}
