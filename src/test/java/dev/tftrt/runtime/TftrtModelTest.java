package dev.tftrt.runtime;

import dev.tftrt.runtime.backend.Backend;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import dev.tftrt.demo.DemoModel;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.runtime.engine.EngineNode;
import dev.tftrt.model.ConvertedModel;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;

/** The Java runtime of converted models: loading, calling from many threads, bad folders and feeds. */
class TftrtModelTest {
  @TempDir static Path tmp;
  static Path converted;

  @BeforeAll
  static void convertDemo() {
    Path saved = tmp.resolve("saved");
    DemoModel.save(saved, 11);
    converted = tmp.resolve("converted");
    // The tests run it on the tensorflow backend too, which needs the original segments kept.
    ConvertJob.run(ConvertJob.Options.of(LoadOptions.of(saved), converted).withFallback("tensorflow"));
  }

  private static Path copy(String name) {
    return TestModels.copyTree(converted, tmp.resolve(name));
  }

  private static Map<String, HostTensor> images(long seed, int batch) {
    return Map.of("image", TestModels.randomFloats(seed, batch, 16, 16, 3));
  }

  @Test
  void eightThreadsTimesFiveHundredCallsGiveTheSingleThreadOutputsWithoutNativeGrowth() throws Exception {
    try (TftrtModel m = TftrtModel.load(converted)) {
      List<Map<String, HostTensor>> inputs = new ArrayList<>();
      List<HostTensor> expected = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        inputs.add(images(100 + i, 1 + i % 3));
        expected.add(m.run(inputs.get(i)).get("probabilities"));
      }
      long[] rss = new long[2];
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        for (int round = 0; round < 2; round++) {
          // Round 0 is the first thousand calls (and more), round 1 the last: native memory is
          // measured after each and must not keep growing.
          List<Future<Integer>> futures = new ArrayList<>();
          for (int t = 0; t < 8; t++) {
            int thread = t;
            futures.add(pool.submit(() -> {
              int bad = 0;
              for (int i = 0; i < 250; i++) {
                int k = (thread + i) % 8;
                if (!m.run(inputs.get(k)).get("probabilities").contentEquals(expected.get(k))) bad++;
              }
              return bad;
            }));
          }
          for (Future<Integer> f : futures) assertEquals(0, f.get(), "outputs differ from the single-thread run");
          rss[round] = residentKiB();
        }
      } finally {
        pool.shutdown();
      }
      long growthKiB = rss[1] - rss[0];
      assertTrue(growthKiB < 64 * 1024, "resident memory grew by " + growthKiB + " KiB between the first and last 2000 calls");
    }
  }

  @Test
  void callingAClosedModelIsOneSentenceNamingIt() {
    TftrtModel m = TftrtModel.load(converted);
    m.close();
    m.close(); // closing twice is harmless
    String expected = "the model loaded from " + converted + " is closed: load it again to call it.";
    TftrtException e = assertThrows(TftrtException.class, () -> m.run(images(1, 1)));
    assertEquals(expected, e.getMessage());
    try (org.tensorflow.types.TFloat32 t = org.tensorflow.types.TFloat32.tensorOf(org.tensorflow.ndarray.Shape.of(1, 16, 16, 3))) {
      e = assertThrows(TftrtException.class, () -> m.call(Map.of("image", t)));
    }
    assertEquals(expected, e.getMessage());
  }

  /** Resident set size from /proc (Linux), in KiB. */
  private static long residentKiB() throws Exception {
    System.gc();
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }

  @Test
  void everyBackendGivesTheSameAnswer() {
    Map<String, HostTensor> in = images(5, 2);
    HostTensor ort;
    try (TftrtModel m = TftrtModel.load(converted, Backend.ONNXRUNTIME)) {
      ort = m.run(in).get("probabilities");
    }
    try (TftrtModel m = TftrtModel.load(converted, Backend.TENSORFLOW)) {
      HostTensor tf = m.run(in).get("probabilities");
      assertTrue(Comparison.diff("p", ort, tf, 1e-4, 1e-6).withinTolerance());
    }
  }

  @Test
  void twoLoadedModelsLiveSideBySide() {
    try (TftrtModel a = TftrtModel.load(converted, Backend.ONNXRUNTIME);
        TftrtModel b = TftrtModel.load(converted, Backend.TENSORFLOW)) {
      Map<String, HostTensor> in = images(6, 1);
      assertTrue(Comparison.diff("p", a.run(in).get("logits"), b.run(in).get("logits"), 1e-4, 1e-5).withinTolerance());
    }
  }

  @Test
  void wrongDtypeFeedIsOneSentence() {
    try (TftrtModel m = TftrtModel.load(converted)) {
      TftrtException e = assertThrows(TftrtException.class,
          () -> m.run(Map.of("image", HostTensor.ofInts(new long[] {1, 16, 16, 3}, new int[16 * 16 * 3]))));
      assertEquals("input 'image' of " + converted + " takes float32, but int32 was given.", e.getMessage());
    }
  }

  @Test
  void wrongShapeFeedIsOneSentence() {
    try (TftrtModel m = TftrtModel.load(converted)) {
      TftrtException e = assertThrows(TftrtException.class, () -> m.run(images(1, 1).entrySet().stream()
          .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey,
              x -> HostTensor.ofFloats(new long[] {1, 8, 8, 3}, new float[8 * 8 * 3])))));
      assertEquals("input 'image' of " + converted + " takes shape [?, 16, 16, 3], but [1, 8, 8, 3] was given.",
          e.getMessage());
      // The model still works after the refused call.
      assertArrayEquals(new long[] {2, 10}, m.run(images(2, 2)).get("logits").shape());
    }
  }

  @Test
  void corruptOnnxFileInTheFolderIsRefused() throws Exception {
    Path dir = copy("corrupt-onnx");
    Path onnx = dir.resolve(dev.tftrt.model.Payloads.find(ConvertedModel.readManifest(dir), "TftrtEngine_0",
        dev.tftrt.model.Payloads.ONNX).orElseThrow().file());
    TestModels.truncateToHalf(onnx);
    TftrtException e = assertThrows(TftrtException.class, () -> TftrtModel.load(dir));
    assertEquals(onnx + " does not match its SHA-256 in tftrt.json; the folder has been edited: convert the model again.",
        e.getMessage());
  }

  @Test
  void engineNodeWithAMissingAttributeIsRefusedNamingTheNode() throws Exception {
    Path dir = copy("missing-attr");
    Path pb = dir.resolve("saved_model.pb");
    SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(pb));
    MetaGraphDef meta = sm.getMetaGraphs(0);
    GraphDef.Builder g = meta.getGraphDef().toBuilder();
    for (int i = 0; i < g.getNodeCount(); i++) {
      NodeDef n = g.getNode(i);
      if (n.getOp().equals(EngineNode.OP)) g.setNode(i, n.toBuilder().removeAttr(EngineNode.ATTR_TOUT));
    }
    Files.write(pb, sm.toBuilder().setMetaGraphs(0, meta.toBuilder().setGraphDef(g)).build().toByteArray());
    TftrtException e = assertThrows(TftrtException.class, () -> TftrtModel.load(dir));
    assertTrue(e.getMessage().startsWith("engine node 'TftrtEngine_0' is damaged: "), e.getMessage());
    assertTrue(e.getMessage().contains(EngineNode.ATTR_TOUT), e.getMessage());
  }

  @Test
  void folderFromANewerFormatVersionIsRefused() throws Exception {
    Path dir = copy("newer");
    Path manifest = dir.resolve(ConvertedModel.MANIFEST);
    Files.writeString(manifest, Files.readString(manifest).replace("\"version\" : 2", "\"version\" : 3"));
    TftrtException e = assertThrows(TftrtException.class, () -> TftrtModel.load(dir));
    assertEquals(dir + " was written by a newer tftrt (format version 3); this one reads up to version 2.",
        e.getMessage());
  }

  @Test
  void aFolderThatIsNotConvertedIsRefused() {
    TftrtException e = assertThrows(TftrtException.class, () -> TftrtModel.load(tmp.resolve("saved")));
    assertEquals(tmp.resolve("saved") + " is not a converted model: it has no tftrt.json.", e.getMessage());
  }
}
