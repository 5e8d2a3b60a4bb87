package dev.tftrt.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.testing.Cli;
import dev.tftrt.testing.TfGraphs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;

/**
 * NaN or Inf in the reference's outputs on the check's inputs (issue 8, class 6): said as such,
 * not as "outputs differ (max abs error 0.0)"; NaNs that agree count as agreeing, and how many.
 */
class NonFiniteVerificationTest {
  @TempDir Path tmp;

  private static final TensorSpec X = new TensorSpec("x", "x:0", DataType.DT_FLOAT, new long[] {-1, 8});
  private static final TensorSpec Y = new TensorSpec("y", "y:0", DataType.DT_FLOAT, new long[] {-1, 8});

  /** y = log(x): NaN for the negative half of the check's random inputs in [-1, 1). */
  private static GraphDef log() {
    return TfGraphs.graph(List.of(TfGraphs.placeholder("x", DataType.DT_FLOAT, -1, 8), TfGraphs.op("Log", "y", "x")));
  }

  /** y = log(|x|): numbers where log(x) is NaN. */
  private static GraphDef logAbs() {
    return TfGraphs.graph(List.of(TfGraphs.placeholder("x", DataType.DT_FLOAT, -1, 8), TfGraphs.op("Abs", "a", "x"),
        TfGraphs.op("Log", "y", "a")));
  }

  private static TfRunner runner(GraphDef g, String name) {
    return new TfRunner(TfModel.fromGraphDef(g, name, List.of(X), List.of(Y)));
  }

  @Test
  @DisplayName("the reference giving NaN where the candidate gives numbers is reported as the original's NaN, naming --input")
  void referenceNaNIsNamed() {
    try (TfRunner a = runner(log(), "original"); TfRunner b = runner(logAbs(), "candidate")) {
      Verification.Report r = Verification.run(a, b, null, Map.of("x", new long[] {4, 8}), 0, 1e-3, 1e-4);
      assertFalse(r.passed());
      Comparison.Diff d = r.diffs().get(0);
      assertTrue(d.referenceNaN() > 0, d.toString());
      assertEquals("the original model gives NaN for output y on these inputs, so the converted model cannot be"
          + " checked against it (the reference gives NaN or Inf in " + d.referenceNaN()
          + " place(s) where the other gives numbers); feed real values with --input; nothing was written.",
          new VerificationFailedException("the converted model's", "the original's", "; nothing was written", r).getMessage());
    }
  }

  @Test
  @DisplayName("NaNs in the same places agree, and are counted")
  void agreeingNaNsPass() {
    try (TfRunner a = runner(log(), "original"); TfRunner b = runner(log(), "candidate")) {
      Verification.Report r = Verification.run(a, b, null, Map.of("x", new long[] {4, 8}), 0, 1e-3, 1e-4);
      assertTrue(r.passed(), r.toString());
      Comparison.Diff d = r.diffs().get(0);
      assertTrue(d.agreeingNonFinite() > 0 && d.agreeingNonFinite() < 32, d.toString());
      assertEquals(d.referenceNaN(), d.agreeingNonFinite());
    }
  }

  @Test
  @DisplayName("an output that is only NaN checks nothing: it fails even though both sides agree")
  void allNaNFails() {
    GraphDef g = TfGraphs.graph(List.of(TfGraphs.placeholder("x", DataType.DT_FLOAT, -1, 8), TfGraphs.op("Abs", "a", "x"),
        TfGraphs.op("Neg", "n", "a"), TfGraphs.op("Sqrt", "y", "n")));
    try (TfRunner a = runner(g, "original"); TfRunner b = runner(g, "candidate")) {
      Verification.Report r = Verification.run(a, b, null, Map.of("x", new long[] {2, 8}), 3, 1e-3, 1e-4);
      assertFalse(r.passed());
      assertEquals("the reference gives only NaN values", r.diffs().get(0).problem());
      assertTrue(new VerificationFailedException("the frozen graph's", "the original's", "", r).getMessage()
          .startsWith("the original model gives NaN for output y on these inputs, so the frozen graph cannot be checked"));
    }
  }

  @Test
  @DisplayName("compare: agreeing NaNs pass and are counted; NaN only in the reference fails naming --input (exit 1)")
  void compareCli() throws Exception {
    Path a = tmp.resolve("log.pb");
    Path b = tmp.resolve("logabs.pb");
    Files.write(a, log().toByteArray());
    Files.write(b, logAbs().toByteArray());
    Cli.Result same = Cli.run("compare", a.toString(), a.toString(), "--random", "--shape", "x=4,8");
    assertEquals(0, same.code(), same.toString());
    assertTrue(same.out().matches("(?s).*identical; \\d+ NaN/Inf agree.*"), same.out());
    Cli.Result differ = Cli.run("compare", a.toString(), b.toString(), "--random", "--shape", "x=4,8");
    assertEquals(1, differ.code(), differ.toString());
    assertTrue(differ.firstErrLine().startsWith("tftrt: " + a + " gives NaN for output y on these inputs (the reference gives NaN or Inf in "),
        differ.toString());
    assertTrue(differ.firstErrLine().endsWith("; feed real values with --input."), differ.toString());
  }
}
