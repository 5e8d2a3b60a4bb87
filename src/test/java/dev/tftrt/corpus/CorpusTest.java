package dev.tftrt.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every shared model converts and matches the original; every convolution and matmul is inside
 * an engine; work left in TensorFlow is what the corpus names; the README's coverage table is
 * this run's.
 */
class CorpusTest {
  /**
   * A converted folder stores each payload once: at most 1.3x its frozen graph, plus an allowance
   * for what does not grow with the weights (manifest and reports, SavedModel and ONNX headers; a
   * frozen half_plus_two is 538 bytes).
   */
  static final double SIZE_RATIO = 1.3;
  static final long TEXT_ALLOWANCE = 64 << 10;
  @TempDir Path tmp;

  @TestFactory
  Stream<DynamicTest> everySharedModelConvertsAndMatches() {
    Path models = TestModels.requireSharedModels();
    Map<String, Corpus.Row> rows = new LinkedHashMap<>();
    List<DynamicTest> tests = new ArrayList<>();
    int i = 0;
    for (Corpus.Entry e : Corpus.entries()) {
      Path out = tmp.resolve("m" + i++);
      tests.add(DynamicTest.dynamicTest(e.name(), () -> {
        Corpus.Row r = Corpus.convert(e, models, out);
        rows.put(e.name(), r);
        assertTrue(r.engines() >= 1 || e.why().contains("engine call"), e.name() + ": no engine, and the corpus does not say why");
        // On the CPU backends matmuls stay in TensorFlow when their engine cannot pay for its call (in a loop, or on small fixed shapes).
        assertEquals(r.heavyTotal(), r.heavyInside() + r.heavyTooSmall(), e.name() + ": convolutions and matmuls left in TensorFlow");
        if (r.heavyTooSmall() > 0) assertTrue(e.why().contains("engine call"), e.name() + ": the corpus does not say that its small clusters stay in TensorFlow");
        if (e.why().isEmpty()) assertEquals(0, r.leftInTf(), e.name() + ": nodes left in TensorFlow, and the corpus does not say why");
        System.out.printf("corpus size: %s: folder %d bytes (%d of them manifest and reports), frozen graph %d bytes: %.2fx%n",
            e.name(), r.folderBytes(), r.textBytes(), r.frozenBytes(), (double) r.folderBytes() / r.frozenBytes());
        assertTrue(r.folderBytes() <= SIZE_RATIO * r.frozenBytes() + TEXT_ALLOWANCE, e.name() + ": the converted folder is "
            + r.folderBytes() + " bytes for a frozen graph of " + r.frozenBytes());
        assertTrue(r.textBytes() <= TEXT_ALLOWANCE, e.name() + ": manifest and reports take " + r.textBytes() + " bytes");
      }));
    }
    tests.add(DynamicTest.dynamicTest("README coverage table", () -> {
      assertEquals(Corpus.entries().size(), rows.size(), "some models did not convert (see above)");
      String readme = Files.readString(Path.of("README.md"));
      String table = Corpus.markdown(new ArrayList<>(rows.values()));
      assertEquals(Corpus.replaceIn(readme, table), readme, "README.md's corpus table is out of date: regenerate it with "
          + "java -cp \"target/test-classes:target/classes:target/lib/*\" dev.tftrt.corpus.CorpusTable --write README.md");
    }));
    return tests.stream();
  }
}
