package dev.tftrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.Cli;
import dev.tftrt.testing.TfGraphs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Issue 9: a check that could not be made is not a pass. freeze, export-onnx and convert exit
 * 1 with one sentence saying why and that nothing was written; --allow-unverified writes anyway,
 * exits 0 and warns; --no-verify stays the explicit opt-out.
 */
class VerificationPolicyTest {
  @TempDir Path tmp;

  /** y = -|relu(x)| + RandomUniform([2, 4]): its outputs differ on every run. */
  private Path randomGraph() throws Exception {
    NodeDef rnd = NodeDef.newBuilder().setName("u").setOp("RandomUniform").addInput("shape")
        .putAttr("T", AttrValue.newBuilder().setType(DataType.DT_INT32).build())
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build()).build();
    GraphDef g = TfGraphs.graph(List.of(TfGraphs.placeholder("x", DataType.DT_FLOAT, 2, 4),
        TfGraphs.constant("shape", HostTensor.ofInts(new long[] {2}, 2, 4)), rnd,
        TfGraphs.op("Relu", "r", "x"), TfGraphs.op("Abs", "a", "r"), TfGraphs.op("Neg", "n", "a"),
        TfGraphs.op("Add", "y", "n", "u")));
    Path p = tmp.resolve("random.pb");
    Files.write(p, g.toByteArray());
    return p;
  }

  /** y = -|relu(x)| after Assert(all(x > 5)): the original fails on any generated input. */
  private Path assertingGraph() throws Exception {
    NodeDef check = NodeDef.newBuilder().setName("check").setOp("Assert").addInput("all").addInput("x")
        .putAttr("T", AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder().addType(DataType.DT_FLOAT)).build())
        .putAttr("summarize", AttrValue.newBuilder().setI(3).build()).build();
    NodeDef all = NodeDef.newBuilder().setName("all").setOp("All").addInput("gt").addInput("axes")
        .putAttr("Tidx", AttrValue.newBuilder().setType(DataType.DT_INT32).build())
        .putAttr("keep_dims", AttrValue.newBuilder().setB(false).build()).build();
    NodeDef guarded = NodeDef.newBuilder(TfGraphs.op("Identity", "xi", "x")).addInput("^check").build();
    GraphDef g = TfGraphs.graph(List.of(TfGraphs.placeholder("x", DataType.DT_FLOAT, 2, 4),
        TfGraphs.constant("five", HostTensor.scalarOf(DataType.DT_FLOAT, 5)),
        TfGraphs.constant("axes", HostTensor.ofInts(new long[] {2}, 0, 1)),
        TfGraphs.op("Greater", "gt", "x", "five"), all, check, guarded,
        TfGraphs.op("Relu", "r", "xi"), TfGraphs.op("Abs", "a", "r"), TfGraphs.op("Neg", "y", "a")));
    Path p = tmp.resolve("asserting.pb");
    Files.write(p, g.toByteArray());
    return p;
  }

  @Test
  @DisplayName("freeze and convert of a random model: exit 1, nothing written; --allow-unverified writes and warns")
  void randomModel() throws Exception {
    Path model = randomGraph();
    Path frozen = tmp.resolve("f.pb");
    Cli.Result f = Cli.run("freeze", model.toString(), "-o", frozen.toString());
    assertEquals(1, f.code(), f.toString());
    assertEquals("tftrt: the frozen graph could not be checked against the original: the original model gives"
        + " different outputs on two runs with the same input ('y' changed), so it has random ops on this path:"
        + " feed inputs that make it deterministic (such as a dropout keep probability of 1.0) with --input;"
        + " nothing was written to " + frozen + " (--allow-unverified writes it unchecked).", f.firstErrLine());
    assertEquals(1, f.err().strip().lines().count(), f.toString());
    assertFalse(Files.exists(frozen));
    assertFalse(Files.exists(tmp.resolve("f.json")));

    Path out = tmp.resolve("converted");
    Cli.Result c = Cli.run("convert", model.toString(), "-o", out.toString());
    assertEquals(1, c.code(), c.toString());
    assertTrue(c.firstErrLine().startsWith("tftrt: the converted model could not be checked against the original:"
        + " the original model gives different outputs on two runs"), c.toString());
    assertTrue(c.firstErrLine().endsWith("; nothing was written to " + out + " (--allow-unverified writes it unchecked)."),
        c.toString());
    assertFalse(Files.exists(out));
    try (var left = Files.list(tmp)) {
      assertEquals(List.of("random.pb"), left.map(p -> p.getFileName().toString()).toList(), "no temporaries left");
    }

    Cli.Result fa = Cli.run("freeze", model.toString(), "-o", frozen.toString(), "--allow-unverified");
    assertEquals(0, fa.code(), fa.toString());
    assertTrue(Files.exists(frozen) && Files.exists(tmp.resolve("f.json")));
    assertTrue(fa.firstErrLine().startsWith("tftrt: warning: " + frozen + " was written without being checked"
        + " against the original: the original model gives different outputs"), fa.toString());
    Cli.Result ca = Cli.run("convert", model.toString(), "-o", out.toString(), "--allow-unverified");
    assertEquals(0, ca.code(), ca.toString());
    assertTrue(Files.exists(out.resolve("tftrt.json")));
    assertTrue(ca.firstErrLine().startsWith("tftrt: warning: " + out + " was written without being checked"), ca.toString());

    // --no-verify is the explicit opt-out: it writes, says so on stdout, no warning.
    Path unchecked = tmp.resolve("n.pb");
    Cli.Result n = Cli.run("freeze", model.toString(), "-o", unchecked.toString(), "--no-verify");
    assertEquals(0, n.code(), n.toString());
    assertTrue(n.out().contains("verification: skipped (--no-verify)"), n.toString());
    assertTrue(Files.exists(unchecked));
  }

  @Test
  @DisplayName("export-onnx of a model that fails on generated inputs: exit 1, nothing written; --allow-unverified writes")
  void originalFailsOnGeneratedInputs() throws Exception {
    Path model = assertingGraph();
    Path onnx = tmp.resolve("a.onnx");
    Cli.Result e = Cli.run("export-onnx", model.toString(), "-o", onnx.toString(), "--outputs", "y");
    assertEquals(1, e.code(), e.toString());
    assertTrue(e.firstErrLine().startsWith("tftrt: the ONNX model could not be checked against the original:"
        + " the original model does not run on generated inputs ("), e.toString());
    assertTrue(e.firstErrLine().endsWith("; nothing was written to " + onnx + " (--allow-unverified writes it unchecked)."),
        e.toString());
    assertFalse(Files.exists(onnx));
    Cli.Result ea = Cli.run("export-onnx", model.toString(), "-o", onnx.toString(), "--outputs", "y", "--allow-unverified");
    assertEquals(0, ea.code(), ea.toString());
    assertTrue(Files.exists(onnx));
    assertTrue(ea.firstErrLine().startsWith("tftrt: warning: " + onnx + " was written without being checked"), ea.toString());
  }

  @Test
  @DisplayName("--backend is refused by the commands that never run an engine")
  void backendOnlyWhereUsed() throws Exception {
    Path model = randomGraph();
    for (String cmd : List.of("freeze", "export-onnx", "inspect")) {
      List<String> args = new java.util.ArrayList<>(List.of(cmd, model.toString(), "--backend", "tensorflow"));
      if (!cmd.equals("inspect")) args.addAll(List.of("-o", tmp.resolve("x-" + cmd).toString()));
      Cli.Result r = Cli.run(args.toArray(String[]::new));
      assertEquals(2, r.code(), r.toString());
      assertEquals("tftrt: Unknown options: '--backend', 'tensorflow'", r.firstErrLine());
    }
    Cli.Result bad = Cli.run("run", model.toString(), "--random", "--backend", "cuda");
    assertEquals(2, bad.code(), bad.toString());
    assertEquals("tftrt: Unknown backend 'cuda': use one of auto, tensorrt, onnxruntime, tensorflow.", bad.firstErrLine());
  }
}
