package dev.tftrt.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every case the fuzzer ever found failing, replayed from src/test/resources/fuzz/regressions
 * (one folder per case: case.json, in/, out/) in one worker JVM: each must now end OK, with the
 * exit code case.json's "expectExit" names where it has one (a bad input that exited 0). A case
 * whose fix is on another branch names it in case.json's "pending" and is skipped until then.
 */
class FuzzRegressionTest {
  static final Path CORPUS = Path.of("src", "test", "resources", "fuzz", "regressions");
  @TempDir static Path work;
  static WorkerProcess worker;

  @TestFactory
  Stream<DynamicTest> corpus() throws IOException {
    List<Path> cases;
    try (Stream<Path> s = Files.list(CORPUS)) {
      cases = s.filter(Files::isDirectory).sorted().toList();
    }
    return cases.stream().map(dir -> DynamicTest.dynamicTest(dir.getFileName().toString(), () -> {
      String pending = Reproducer.pending(dir);
      assumeTrue(pending == null, "pending: " + pending);
      FuzzCase c = Reproducer.read(dir);
      Judge.Finding f = Fuzz.replay(dir, c, work.resolve("case"), worker(), 60_000, false);
      assertEquals(Verdict.OK, f.verdict(), c.mutation() + " -> " + f.reason());
      int expected = Reproducer.expectedExit(dir);
      if (expected >= 0) assertEquals(expected, f.code(), c.mutation() + " -> " + f.reason());
    }));
  }

  /** One worker for all cases, replaced when a case kills it. */
  private static WorkerProcess worker() {
    if (worker == null || !worker.alive()) {
      worker = new WorkerProcess(work.resolve("worker"), System.getProperty("java.class.path"), "2g");
    }
    return worker;
  }

  @AfterAll
  static void close() {
    if (worker != null) worker.close();
  }
}
