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
        assertTrue(r.engines() >= 1, e.name() + ": no engine");
        assertEquals(r.heavyTotal(), r.heavyInside(), e.name() + ": convolutions and matmuls left in TensorFlow");
        if (e.why().isEmpty()) assertEquals(0, r.leftInTf(), e.name() + ": nodes left in TensorFlow, and the corpus does not say why");
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
