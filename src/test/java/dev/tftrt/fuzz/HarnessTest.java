package dev.tftrt.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The harness itself: cases are reproducible from (seed, index), the judge names each failure
 * class, and a worker JVM that aborts or hangs is seen and replaced.
 */
class HarnessTest {
  @TempDir static Path shared;
  static Seeds seeds;
  @TempDir Path tmp;

  private static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void seeds() {
    seeds = Seeds.prepare(shared.resolve("seeds"));
  }

  @Test
  @DisplayName("the same seed and index give the same case, byte for byte; another index another one")
  void casesAreReproducible() {
    CaseGenerator gen = new CaseGenerator(seeds, 42, List.of());
    int differing = 0;
    for (long i = 0; i < 40; i++) {
      FuzzCase a = gen.generate(i, tmp.resolve("a" + i));
      FuzzCase b = new CaseGenerator(seeds, 42, List.of()).generate(i, tmp.resolve("b" + i));
      assertEquals(a, b);
      assertEquals(FuzzFiles.snapshot(tmp.resolve("a" + i)), FuzzFiles.snapshot(tmp.resolve("b" + i)), a.toString());
      FuzzCase other = new CaseGenerator(seeds, 43, List.of()).generate(i, tmp.resolve("o" + i));
      if (!other.equals(a)) differing++;
    }
    assertTrue(differing > 30, "seed 43 made the same cases as seed 42 " + (40 - differing) + " times in 40");
  }

  @Test
  @DisplayName("byte mutations change the bytes and are the same for the same Random seed")
  void byteMutations() {
    byte[] in = new byte[256];
    for (int i = 0; i < in.length; i++) in[i] = (byte) i;
    for (int s = 0; s < 50; s++) {
      byte[] a = ByteMutator.mutate(in, null, new Random(s), new StringBuilder());
      byte[] b = ByteMutator.mutate(in, null, new Random(s), new StringBuilder());
      assertArrayEquals(a, b);
      assertTrue(!java.util.Arrays.equals(a, in) || a.length != in.length || s < 0, "seed " + s + " left the bytes as they were");
    }
  }

  @Test
  @DisplayName("npy mutations keep a parseable preamble and put the mutated field in the header")
  void npyMutations() {
    byte[] seed = Seeds.bytes(seeds.npys.get(0));
    int shapes = 0;
    for (int s = 0; s < 60; s++) {
      StringBuilder d = new StringBuilder();
      byte[] m = NpyMutator.mutate(seed, new Random(s), d);
      assertEquals((byte) 0x93, m[0]);
      if (d.toString().contains("'shape': (1, 784)")) shapes++;
    }
    assertNotEquals(60, shapes);
  }

  @Test
  @DisplayName("manifest mutations produce JSON that differs from the original")
  void manifestMutations() throws IOException {
    byte[] seed = Files.readAllBytes(seeds.converted.get(0).path().resolve("tftrt.json"));
    for (int s = 0; s < 30; s++) {
      byte[] m = ManifestMutator.mutate(seed, new Random(s), new StringBuilder());
      assertNotEquals(JSON.readTree(seed), JSON.readTree(m), "seed " + s);
    }
  }

  private static FuzzCase selftest(String what) {
    return new FuzzCase("t-" + what, 0, 0, "selftest", "selftest", List.of(what), List.of(), what);
  }

  @Test
  @DisplayName("a worker that aborts gives ABORT, one that hangs HANG, an escaped Error ERROR; a new worker then runs")
  void workerFailures() throws IOException {
    Path caseDir = Files.createDirectories(tmp.resolve("case"));
    String cp = System.getProperty("java.class.path");
    try (WorkerProcess w = new WorkerProcess(tmp.resolve("w1"), cp, "512m")) {
      assertEquals(Verdict.OK, judged(w, selftest("nothing"), caseDir).verdict());
      Judge.Finding f = judged(w, selftest("error"), caseDir);
      assertEquals(Verdict.ERROR, f.verdict(), f.reason());
      Judge.Finding a = judged(w, selftest("abort"), caseDir);
      assertEquals(Verdict.ABORT, a.verdict(), a.reason());
      assertTrue(a.reason().startsWith("worker died (exit 134)"), a.reason());
    }
    try (WorkerProcess w = new WorkerProcess(tmp.resolve("w2"), cp, "512m")) {
      long t0 = System.nanoTime();
      Judge.Finding h = judged(w, selftest("hang"), caseDir);
      assertEquals(Verdict.HANG, h.verdict(), h.reason());
      assertTrue((System.nanoTime() - t0) / 1e9 < 30, "the hang was not cut at its limit");
    }
  }

  private static Judge.Finding judged(WorkerProcess w, FuzzCase c, Path caseDir) {
    Judge.Before before = Judge.Before.of(caseDir, w.sandbox, w.tmp);
    WorkerProcess.Outcome o = w.run(c.id(), c.target(), c.args(), 3000);
    return Judge.judge(c, caseDir, w.sandbox, w.tmp, before, o);
  }

  private static WorkerProcess.Outcome answered(int code, String err) {
    var r = JSON.createObjectNode();
    r.put("code", code);
    r.put("err", err);
    r.put("errLines", err.lines().count());
    return new WorkerProcess.Outcome(r, false, 0, false, "");
  }

  @Test
  @DisplayName("the judge: exit 3 INTERNAL, stack trace NOISE, a new file LEFTOVER, a changed input CLOBBER, one sentence OK")
  void judgeClasses() throws IOException {
    Path caseDir = Files.createDirectories(tmp.resolve("case"));
    Path sandbox = Files.createDirectories(tmp.resolve("cwd"));
    Path tmpDir = Files.createDirectories(tmp.resolve("tmp"));
    Files.createDirectories(caseDir.resolve("out"));
    Files.writeString(caseDir.resolve("in.pb"), "model");
    FuzzCase c = new FuzzCase("t", 0, 0, "t", "freeze", List.of(), List.of("f.pb"), "");
    Map<String, Verdict> expected = new java.util.LinkedHashMap<>();
    Judge.Before before = Judge.Before.of(caseDir, sandbox, tmpDir);
    assertEquals(Verdict.OK, Judge.judge(c, caseDir, sandbox, tmpDir, before,
        answered(2, "tftrt: in.pb is not a TensorFlow GraphDef.\n")).verdict());
    assertEquals(Verdict.INTERNAL, Judge.judge(c, caseDir, sandbox, tmpDir, before,
        answered(3, "tftrt: internal error: java.lang.NullPointerException\n")).verdict());
    assertEquals(Verdict.ERROR, Judge.judge(c, caseDir, sandbox, tmpDir, before,
        answered(1, "java.lang.StackOverflowError\n\tat x.y(Z.java:1)\n")).verdict());
    assertEquals(Verdict.NOISE, Judge.judge(c, caseDir, sandbox, tmpDir, before,
        answered(2, "tftrt: bad\njava.io.IOException: x\n\tat a.b.C.d(C.java:3)\n")).verdict());
    assertEquals(Verdict.NOISE, Judge.judge(c, caseDir, sandbox, tmpDir, before, answered(2, "")).verdict());

    Files.writeString(caseDir.resolve("out/f.pb"), "written");
    assertEquals(Verdict.OK, Judge.judge(c, caseDir, sandbox, tmpDir, before, answered(0, "")).verdict());
    assertEquals(Verdict.LEFTOVER, Judge.judge(c, caseDir, sandbox, tmpDir, before, answered(2, "tftrt: no.\n")).verdict());
    Files.delete(caseDir.resolve("out/f.pb"));
    Files.createDirectories(caseDir.resolve("out/.f.pb.123.tmp"));
    assertEquals(Verdict.LEFTOVER, Judge.judge(c, caseDir, sandbox, tmpDir, before, answered(0, "")).verdict());
    Files.delete(caseDir.resolve("out/.f.pb.123.tmp"));
    Files.writeString(tmpDir.resolve("scratch"), "x");
    assertEquals(Verdict.LEFTOVER, Judge.judge(c, caseDir, sandbox, tmpDir, before, answered(0, "")).verdict());
    Files.delete(tmpDir.resolve("scratch"));
    Files.createDirectories(tmpDir.resolve("onnxruntime-java123"));
    assertEquals(Verdict.OK, Judge.judge(c, caseDir, sandbox, tmpDir, before, answered(0, "")).verdict());

    Files.writeString(caseDir.resolve("in.pb"), "overwritten");
    assertEquals(Verdict.CLOBBER, Judge.judge(c, caseDir, sandbox, tmpDir, before, answered(0, "")).verdict());
    Files.delete(caseDir.resolve("in.pb"));
    assertEquals(Verdict.CLOBBER, Judge.judge(c, caseDir, sandbox, tmpDir, before, answered(2, "tftrt: x.\n")).verdict());
    assertTrue(expected.isEmpty());
  }
}
