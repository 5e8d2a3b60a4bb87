package dev.tftrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.Cli;
import dev.tftrt.testing.TestModels;
import dev.tftrt.testing.TfGraphs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Training-time placeholders and random ops (issue 8, class 7): --set NAME=VALUE binds an input
 * to a constant before optimizing, so it leaves the signature and what depends only on it
 * folds; random ops stay in TensorFlow; compare says when the reference is not deterministic.
 */
class SetAndRandomOpsTest {
  @TempDir Path tmp;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** y = x * (1 - keep_prob) + x: keep_prob a scalar placeholder, x [-1, 4]. */
  private Path keepProbGraph() throws Exception {
    GraphDef g = TfGraphs.graph(List.of(TfGraphs.placeholder("x", DataType.DT_FLOAT, -1, 4),
        TfGraphs.placeholder("keep_prob", DataType.DT_FLOAT),
        TfGraphs.constant("one", HostTensor.scalarOf(DataType.DT_FLOAT, 1)),
        TfGraphs.op("Sub", "drop", "one", "keep_prob"), TfGraphs.op("Mul", "m", "x", "drop"),
        TfGraphs.op("Add", "y", "m", "x")));
    Path p = tmp.resolve("keep_prob.pb");
    Files.write(p, g.toByteArray());
    return p;
  }

  /** y = x + RandomUniform([2, 4]): nothing makes it deterministic. */
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

  @Test
  @DisplayName("freeze --set keep_prob=0.25: the input is gone, it is a Const, what depended on it folded, values right")
  void freezeBindsAndFolds() throws Exception {
    Path model = keepProbGraph();
    Path out = tmp.resolve("frozen.pb");
    Cli.Result r = Cli.run("freeze", model.toString(), "-o", out.toString(), "--set", "keep_prob=0.25");
    assertEquals(0, r.code(), r.toString());
    JsonNode side = JSON.readTree(tmp.resolve("frozen.json").toFile());
    assertEquals(1, side.get("inputs").size(), side.toString());
    assertEquals("x", side.get("inputs").get(0).get("name").asText());
    GraphDef frozen = TestModels.readGraphDef(out);
    assertEquals("Const", TestModels.node(frozen, "keep_prob").getOp());
    HostTensor x = TestModels.randomFloats(5, 3, 4);
    Map<String, HostTensor> y = TfGraphs.runGraph(frozen, Map.of("x:0", x), List.of("y:0"));
    float[] xs = TestModels.floats(x);
    float[] ys = TestModels.floats(y.values().iterator().next());
    for (int i = 0; i < xs.length; i++) assertEquals(xs[i] * 0.75f + xs[i], ys[i], 1e-6f);
    // inspect: after optimizing, the subtraction of two constants is folded away.
    Cli.Result ins = Cli.run("inspect", model.toString(), "--set", "keep_prob=0.25", "--json");
    assertEquals(0, ins.code(), ins.toString());
    assertFalse(ins.out().contains("\"Sub\""), ins.out());
  }

  @Test
  @DisplayName("--set refuses, in one sentence each: an unknown name, a node that is no placeholder, a value that is no number")
  void setRefusals() throws Exception {
    Path model = keepProbGraph();
    Path out = tmp.resolve("f.pb");
    Cli.Result unknown = Cli.run("freeze", model.toString(), "-o", out.toString(), "--set", "dropout=1");
    assertEquals(2, unknown.code(), unknown.toString());
    assertEquals("tftrt: --set names 'dropout', which is neither an input nor a node of " + model + ".",
        unknown.firstErrLine());
    Cli.Result op = Cli.run("freeze", model.toString(), "-o", out.toString(), "--set", "drop=1");
    assertEquals("tftrt: --set names 'drop', a Sub node of " + model
        + "; only inputs and placeholders can be bound to a value.", op.firstErrLine());
    Cli.Result value = Cli.run("freeze", model.toString(), "-o", out.toString(), "--set", "keep_prob=high");
    assertEquals("tftrt: --set keep_prob=high is neither a number, true/false, nor a .npy file.", value.firstErrLine());
    Cli.Result form = Cli.run("freeze", model.toString(), "-o", out.toString(), "--set", "keep_prob");
    assertEquals("tftrt: --set keep_prob is not of the form NAME=VALUE.", form.firstErrLine());
    assertFalse(Files.exists(out));
  }

  @Test
  @DisplayName("a --set value of a shape no reader takes is refused by shape inference, not fed to the kernel (child JVM)")
  void boundValueShapeIsChecked() throws Exception {
    NodeDef conv = TfGraphs.op("Conv2D", "conv", "x", "w").toBuilder()
        .putAttr("strides", AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder()
            .addI(1).addI(1).addI(1).addI(1)).build())
        .putAttr("padding", AttrValue.newBuilder().setS(com.google.protobuf.ByteString.copyFromUtf8("SAME")).build())
        .build();
    NodeDef x = TfGraphs.placeholder("x", DataType.DT_FLOAT).toBuilder().removeAttr("shape").build();
    GraphDef g = TfGraphs.graph(List.of(x, TfGraphs.constant("w", TestModels.randomFloats(3, 1, 1, 2, 2)), conv));
    Path model = tmp.resolve("conv.pb");
    Files.write(model, g.toByteArray());
    Path npy = tmp.resolve("x.npy");
    dev.tftrt.tensor.Npy.write(TestModels.randomFloats(1, 2, 2), npy);
    Cli.Result r = dev.tftrt.testing.ChildCli.run("run", model.toString(), "--set", "x=" + npy);
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("tftrt: the inputs of " + model + " cannot take the shapes 'x:0' [2, 2]")
        || r.err().contains("tftrt: input 'x:0' of " + model + " cannot take shape [2, 2]"), r.toString());
  }

  @Test
  @DisplayName("random ops are neither folded nor converted; export-onnx names RandomUniform, convert says the model is random")
  void randomOpsStayInTensorFlow() throws Exception {
    Path model = randomGraph();
    Cli.Result ins = Cli.run("inspect", model.toString());
    assertEquals(0, ins.code(), ins.toString());
    assertTrue(ins.out().contains("RandomUniform: no converter handles op RandomUniform"), ins.out());
    Cli.Result onnx = Cli.run("export-onnx", model.toString(), "-o", tmp.resolve("r.onnx").toString());
    assertEquals(2, onnx.code(), onnx.toString());
    assertTrue(onnx.out().contains("u (RandomUniform): no converter handles op RandomUniform."), onnx.toString());
    Cli.Result cmp = Cli.run("compare", model.toString(), model.toString(), "--random");
    assertEquals(1, cmp.code(), cmp.toString());
    assertTrue(cmp.firstErrLine().startsWith("tftrt: not compared: the original model gives different outputs on two runs"
        + " with the same input ('y' changed), so it has random ops on this path"), cmp.toString());
  }

  @Test
  @DisplayName("lstm-unrolled: convert --set keep_prob=1.0 drops keep_prob from the signature, leaves RandomUniform in TensorFlow, compares")
  void lstmUnrolledKeepProb() throws Exception {
    Path model = TestModels.shared("lstm-unrolled/frozen.pb");
    Path out = tmp.resolve("lstm");
    Cli.Result c = Cli.run("convert", model.toString(), "-o", out.toString(), "--set", "keep_prob=1.0");
    assertEquals(0, c.code(), c.toString());
    assertTrue(c.out().contains("compute-heavy ops in engines: 29 of 29"), c.out());
    JsonNode manifest = JSON.readTree(out.resolve("tftrt.json").toFile());
    assertEquals(1, manifest.get("inputs").size(), manifest.toString());
    assertEquals("X", manifest.get("inputs").get(0).get("name").asText());
    assertTrue(Files.readString(out.resolve("report.md")).contains("model/dropout/random_uniform/RandomUniform"));
    // The original still takes keep_prob: fed 1.0 it agrees with the converted model, which has it bound.
    Cli.Result same = Cli.run("compare", model.toString(), out.toString(), "--random", "--input", "keep_prob=1.0",
        "--rtol", "1e-3", "--atol", "1e-4");
    assertEquals(0, same.code(), same.toString());
    // Fed a random keep_prob, the original's dropout is random: compare says so rather than "out of tolerance".
    Cli.Result random = Cli.run("compare", model.toString(), model.toString(), "--random");
    assertEquals(1, random.code(), random.toString());
    assertTrue(random.firstErrLine().startsWith("tftrt: not compared: the original model gives different outputs"), random.toString());
    Cli.Result onConverted = Cli.run("run", out.toString(), "--random", "--set", "keep_prob=1.0");
    assertEquals(2, onConverted.code(), onConverted.toString());
    assertEquals("tftrt: --set binds inputs of TensorFlow models; " + out + " is a converted model: feed the value with --input.",
        onConverted.firstErrLine());
  }
}
