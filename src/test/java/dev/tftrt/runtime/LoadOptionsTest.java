package dev.tftrt.runtime;

import dev.tftrt.testing.LogCapture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.tftrt.TftrtException;
import dev.tftrt.demo.DemoModel;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.runtime.backend.Backend;
import dev.tftrt.runtime.backend.OrtEnvironments;
import dev.tftrt.runtime.ort.OrtOptions;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.ConfigProto;

/**
 * Issue 9: TftrtModel.load(dir, options): backend, TensorFlow session config, ONNX Runtime
 * threading (one shared pool by default) and optimisation level, each used.
 */
class LoadOptionsTest {
  @TempDir static Path tmp;
  static Path converted;
  static Map<String, HostTensor> in;
  static HostTensor expected;

  @BeforeAll
  static void convert() {
    Path saved = tmp.resolve("saved");
    DemoModel.save(saved, 5);
    converted = tmp.resolve("converted");
    ConvertJob.run(ConvertJob.Options.of(LoadOptions.of(saved), converted).withFallback("tensorflow")); // tested on both backends
    in = Map.of("image", TestModels.randomFloats(9, 2, 16, 16, 3));
    try (TftrtModel m = TftrtModel.load(converted)) {
      expected = m.run(in).get("probabilities");
    }
  }

  private static void sameAnswer(TftrtModel.Options o) {
    try (TftrtModel m = TftrtModel.load(converted, o)) {
      assertTrue(Comparison.diff("p", expected, m.run(in).get("probabilities"), 1e-4, 1e-6).withinTolerance());
    }
  }

  @Test
  void everyOptionLoadsAndGivesTheSameAnswer() {
    sameAnswer(TftrtModel.Options.defaults().withBackend(Backend.TENSORFLOW));
    sameAnswer(TftrtModel.Options.defaults().withSessionConfig(ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(1).setInterOpParallelismThreads(1).build()));
    sameAnswer(TftrtModel.Options.defaults().withOrt(OrtOptions.defaults().withOptimization(OptLevel.NO_OPT)));
    sameAnswer(TftrtModel.Options.defaults().withOrt(OrtOptions.defaults().withSharedPool(false).withIntraOpThreads(2)));
    TftrtException e = assertThrows(TftrtException.class, () -> OrtOptions.defaults().withIntraOpThreads(-1));
    assertEquals("ONNX Runtime thread counts must be 0 (its default) or more, not -1.", e.getMessage());
  }

  /** The process has one ONNX Runtime pool, sized by its first user: asking for another size says so, once. */
  @Test
  void anotherSizeForTheSharedPoolIsLoggedOnce() {
    try (LogCapture log = LogCapture.of(OrtEnvironments.class, null)) {
      int[] pool = dev.tftrt.runtime.ort.Ort.globalPool();
      int other = pool == null ? 7 : pool[0] + 7;
      TftrtModel.Options asks = TftrtModel.Options.defaults().withOrt(OrtOptions.defaults().withIntraOpThreads(other));
      sameAnswer(asks);
      sameAnswer(asks);
      List<String> warnings = log.records().stream().filter(r -> r.getLevel() == Level.WARNING).map(LogRecord::getMessage).toList();
      assertEquals(1, warnings.size(), warnings.toString());
      assertTrue(warnings.get(0).startsWith("ONNX Runtime's shared thread pool of this process was created with "), warnings.get(0));
      assertTrue(warnings.get(0).contains("the " + other + " intra-op and 1 inter-op threads asked for now cannot apply"),
          warnings.get(0));
      // A per-session pool of that size is what it says to use, and is not warned about.
      log.clear();
      sameAnswer(asks.withOrt(asks.ort().withSharedPool(false)));
      assertEquals(0, log.records().stream().filter(r -> r.getLevel() == Level.WARNING).count());
    }
  }

  /** Asked for 6 intra-op threads, a per-session pool starts them for the engine; the shared pool starts none. */
  @Test
  void theSharedPoolStartsNoThreadsPerEngine() throws Exception {
    sameAnswer(TftrtModel.Options.defaults()); // TensorFlow's and ONNX Runtime's process pools exist from here
    int base = threads();
    try (TftrtModel shared = TftrtModel.load(converted, TftrtModel.Options.defaults()
        .withOrt(OrtOptions.defaults().withIntraOpThreads(6)))) {
      int afterShared = threads();
      try (TftrtModel own = TftrtModel.load(converted, TftrtModel.Options.defaults()
          .withOrt(OrtOptions.defaults().withSharedPool(false).withIntraOpThreads(6)))) {
        int afterOwn = threads();
        assertTrue(afterShared - base <= 1, "shared pool: " + base + " -> " + afterShared + " threads");
        assertTrue(afterOwn - afterShared >= 5, "own pool of 6: " + afterShared + " -> " + afterOwn + " threads");
      }
    }
  }

  private static int threads() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("Threads:")) return Integer.parseInt(line.substring(8).strip());
    }
    throw new IllegalStateException("no Threads in /proc/self/status");
  }
}
