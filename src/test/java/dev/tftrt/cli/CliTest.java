package dev.tftrt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.Npy;
import dev.tftrt.tensor.Npz;
import dev.tftrt.testing.Cli;
import dev.tftrt.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/** The tftrt command line, run in-process through Main.execute. */
class CliTest {
  @TempDir static Path shared;
  /** half_plus_two_tf2 frozen once by the CLI, with its sidecar; null without ../shared/models. */
  static Path frozenTf2;
  static Cli.Result freezeTf2;

  @TempDir Path tmp;

  @BeforeAll
  static void freezeHalfPlusTwoOnce() {
    if (!Files.isDirectory(TestModels.sharedModels())) return;
    frozenTf2 = shared.resolve("h2.pb");
    freezeTf2 = Cli.run("freeze", TestModels.sharedModels().resolve("half_plus_two_tf2").toString(),
        "-o", frozenTf2.toString());
  }

  private static Path tf2() {
    return TestModels.shared("half_plus_two_tf2");
  }

  private static void assertExit(int code, Cli.Result r) {
    assertEquals(code, r.code(), r.toString());
  }

  // ------------------------------------------------------------------ freeze

  @Test
  @DisplayName("freeze exits 0 and writes OUT.pb and OUT.json")
  void freezeWritesGraphAndSidecar() throws IOException {
    tf2();
    assertExit(0, freezeTf2);
    assertEquals(List.of("h2.json", "h2.pb"), TestModels.listing(shared));
    assertTrue(freezeTf2.out().contains("verification: outputs bit-identical"), freezeTf2.out());
    assertTrue(freezeTf2.out().contains("y (StatefulPartitionedCall"), freezeTf2.out());
    assertEquals("", freezeTf2.err());
    GraphDef g = TestModels.readGraphDef(frozenTf2);
    assertFalse(TestModels.ops(g).contains("VarHandleOp"));
    JsonNode json = new ObjectMapper().readTree(shared.resolve("h2.json").toFile());
    assertEquals("x", json.get("inputs").get(0).get("name").asText());
    assertEquals("y", json.get("outputs").get(0).get("name").asText());
  }

  @Test
  @DisplayName("freeze of a .meta file with --outputs and --no-verify")
  void freezeMetaWithOutputs() {
    Path out = tmp.resolve("reg.pb");
    Cli.Result r = Cli.run("freeze", TestModels.shared("regression/checkpoint/model.meta").toString(),
        "--outputs", "pred", "--no-verify", "-o", out.toString());
    assertExit(0, r);
    assertTrue(r.out().contains("verification: skipped (--no-verify)"), r.out());
    assertTrue(r.out().contains("variables frozen: 2"), r.out());
    assertEquals(List.of("reg.json", "reg.pb"), TestModels.listing(tmp));
  }

  @Test
  @DisplayName("freeze with --shape for an unknown batch dimension")
  void freezeWithShape() {
    Cli.Result r = Cli.run("freeze", TestModels.shared("mlp-fc-layers/frozen.pb").toString(),
        "--shape", "X=4,784", "--seed", "3", "-o", tmp.resolve("mlp.pb").toString());
    assertExit(0, r);
    assertTrue(r.out().contains("bit-identical to the original's (inputs: random, seed 3)"), r.out());
  }

  @Test
  @DisplayName("freeze of a missing model exits 2 with one sentence and writes nothing")
  void freezeMissingModel() {
    Path missing = tmp.resolve("missing_model");
    Cli.Result r = Cli.run("freeze", missing.toString(), "-o", tmp.resolve("out.pb").toString());
    assertExit(2, r);
    assertEquals("tftrt: " + missing + " does not exist.\n", r.err());
    assertEquals(List.of(), TestModels.listing(tmp));
  }

  @Test
  @DisplayName("freeze --tags gpu exits 2 and leaves the existing target unchanged, even with --overwrite")
  void freezeUnknownTag() throws IOException {
    Path out = Files.writeString(tmp.resolve("out.pb"), "old");
    Cli.Result r = Cli.run("freeze", tf2().toString(), "--tags", "gpu", "-o", out.toString(), "--overwrite");
    assertExit(2, r);
    assertEquals("tftrt: SavedModel " + tf2() + " has no MetaGraph tagged 'gpu'; its tag sets are: serve.",
        r.firstErrLine());
    assertEquals("old", Files.readString(out));
    assertEquals(List.of("out.pb"), TestModels.listing(tmp));
  }

  @Test
  @DisplayName("freeze --signature that does not exist exits 2")
  void freezeUnknownSignature() {
    Cli.Result r = Cli.run("freeze", TestModels.shared("half_plus_two_tf1").toString(), "--signature", "predict",
        "-o", tmp.resolve("o.pb").toString());
    assertExit(2, r);
    assertEquals("tftrt: SavedModel " + TestModels.shared("half_plus_two_tf1") + " has no signature 'predict'; "
        + "it has: classify_x_to_y, regress_x2_to_y3, regress_x_to_y, regress_x_to_y2, serving_default.",
        r.firstErrLine());
    assertEquals(List.of(), TestModels.listing(tmp));
  }

  @Test
  @DisplayName("freeze --outputs naming no node exits 2")
  void freezeUnknownOutput() {
    Path model = TestModels.shared("regression/graphdef/frozen.pb");
    Cli.Result r = Cli.run("freeze", model.toString(), "--outputs", "prediction", "-o", tmp.resolve("o.pb").toString());
    assertExit(2, r);
    assertEquals("tftrt: --outputs names 'prediction', but " + model + " has no node 'prediction'.", r.firstErrLine());
    assertEquals(List.of(), TestModels.listing(tmp));
  }

  @Test
  @DisplayName("freeze without -o is a usage error (exit 2)")
  void freezeWithoutOutput() {
    Cli.Result r = Cli.run("freeze", "model.pb");
    assertExit(2, r);
    assertEquals("tftrt: Missing required option: '--output=OUT.pb'", r.firstErrLine());
    assertTrue(r.err().contains("Usage: tftrt freeze"), r.err());
  }

  @Test
  @DisplayName("a malformed --shape exits 2")
  void malformedShape() {
    Cli.Result r = Cli.run("freeze", TestModels.shared("mlp-fc-layers/frozen.pb").toString(), "--shape", "X=4,a",
        "-o", tmp.resolve("o.pb").toString());
    assertExit(2, r);
    assertEquals("tftrt: --shape X=4,a has a dimension that is not a whole number.", r.firstErrLine());
    assertEquals(List.of(), TestModels.listing(tmp));
  }

  // ------------------------------------------------------------------ compare

  @Test
  @DisplayName("compare of half_plus_two_tf2 with its frozen form exits 0")
  void compareWithFrozenForm() {
    tf2();
    assertExit(0, freezeTf2);
    Cli.Result r = Cli.run("compare", tf2().toString(), frozenTf2.toString(), "--random", "--seed", "4");
    assertExit(0, r);
    assertTrue(r.out().contains("all outputs within tolerance"), r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith("y ") && l.endsWith("identical")), r.out());
  }

  @Test
  @DisplayName("compare against a frozen graph with a changed constant exits 1 and names the output")
  void compareWithChangedConstant() throws IOException {
    tf2();
    assertExit(0, freezeTf2);
    // Change the Const feeding the Add (2.0 -> 2.5) and keep the sidecar beside the copy.
    GraphDef g = TestModels.readGraphDef(frozenTf2);
    NodeDef add = g.getNodeList().stream().filter(n -> n.getOp().equals("AddV2") || n.getOp().equals("Add"))
        .findFirst().orElseThrow();
    String constName = add.getInputList().stream()
        .filter(in -> TestModels.node(g, in).getOp().equals("Const")).findFirst().orElseThrow();
    GraphDef.Builder b = g.toBuilder();
    for (int i = 0; i < b.getNodeCount(); i++) {
      if (b.getNode(i).getName().equals(constName)) {
        TensorProto old = b.getNode(i).getAttrOrThrow("value").getTensor();
        TensorProto changed = old.toBuilder().clearTensorContent().clearFloatVal().addFloatVal(2.5f).build();
        b.setNode(i, b.getNode(i).toBuilder().putAttr("value", AttrValue.newBuilder().setTensor(changed).build()));
      }
    }
    Path changed = tmp.resolve("changed.pb");
    Files.write(changed, b.build().toByteArray());
    Files.copy(shared.resolve("h2.json"), tmp.resolve("changed.json"));

    Cli.Result r = Cli.run("compare", tf2().toString(), changed.toString(), "--random");
    assertExit(1, r);
    assertEquals("tftrt: out of tolerance: y.", r.firstErrLine());
    String row = r.out().lines().filter(l -> l.trim().startsWith("y ")).findFirst().orElseThrow();
    assertTrue(row.contains("FAIL (outside tolerance)"), r.out());
    assertTrue(row.contains("0.5000"), "max abs error 0.5 expected in: " + row);
  }

  @Test
  @DisplayName("compare with a file input: --input x=file.npy")
  void compareWithNpyInput() {
    tf2();
    assertExit(0, freezeTf2);
    Path x = tmp.resolve("x.npy");
    Npy.write(HostTensor.ofFloats(new long[] {1}, 3f), x);
    Cli.Result r = Cli.run("compare", tf2().toString(), frozenTf2.toString(), "--input", "x=" + x);
    assertExit(0, r);
    assertTrue(r.out().contains("inputs: x=" + x), r.out());
  }

  // ------------------------------------------------------------------ run

  @Test
  @DisplayName("run --input x=file.npy -o out.npz writes y = x/2 + 2")
  void runWritesNpz() {
    Path x = tmp.resolve("x.npy");
    Npy.write(HostTensor.ofFloats(new long[] {4, 1}, 4f, 0f, -2f, 9f), x);
    Path out = tmp.resolve("out.npz");
    Cli.Result r = Cli.run("run", TestModels.shared("half_plus_two_tf1").toString(), "--input", "x=" + x,
        "-o", out.toString());
    assertExit(0, r);
    assertTrue(r.out().contains("y: float32 [4, 1]  min 1.00000  max 6.50000  mean 3.37500"), r.out());
    assertTrue(r.out().contains("wrote " + out), r.out());
    Map<String, HostTensor> back = Npz.read(out);
    assertEquals(List.of("y"), List.copyOf(back.keySet()));
    assertArrayEquals(new long[] {4, 1}, back.get("y").shape());
    assertArrayEquals(new float[] {4f, 2f, 1f, 6.5f}, TestModels.floats(back.get("y")));
  }

  @Test
  @DisplayName("run --input s=0.5 feeds a scalar")
  void runScalarInput() {
    Path g = tmp.resolve("scalar.pb");
    TestModels.writeScalarGraph(g);
    Path out = tmp.resolve("out.npz");
    Cli.Result r = Cli.run("run", g.toString(), "--input", "s=0.5", "-o", out.toString());
    assertExit(0, r);
    HostTensor y = Npz.read(out).get("out");
    assertArrayEquals(new long[0], y.shape());
    assertEquals(2.5, y.getDouble(0));
  }

  @Test
  @DisplayName("run --input data=@file feeds the file's bytes as a string")
  void runStringInputFromFile() throws IOException {
    Path g = tmp.resolve("strlen.pb");
    TestModels.writeStringLengthGraph(g);
    Path file = Files.write(tmp.resolve("clip.bin"), new byte[] {0, 1, 2, (byte) 0xff, 10, 13, 0});
    Path out = tmp.resolve("out.npz");
    Cli.Result r = Cli.run("run", g.toString(), "--input", "data=@" + file, "-o", out.toString());
    assertExit(0, r);
    HostTensor len = Npz.read(out).get("length");
    assertEquals(org.tensorflow.proto.DataType.DT_INT32, len.dtype());
    assertArrayEquals(new long[0], len.shape());
    assertEquals(7.0, len.getDouble(0));
  }

  @Test
  @DisplayName("run --input @file that does not exist exits 2")
  void runMissingStringFile() {
    Path g = tmp.resolve("strlen.pb");
    TestModels.writeStringLengthGraph(g);
    Path missing = tmp.resolve("nothing.wav");
    Cli.Result r = Cli.run("run", g.toString(), "--input", "data=@" + missing);
    assertExit(2, r);
    assertEquals("tftrt: " + missing + " does not exist.", r.firstErrLine());
  }

  @Test
  @DisplayName("run a tf.Example signature with a string .npy: half_plus_two_tf1 regress_x_to_y")
  void runSerializedExampleFromNpy() throws IOException {
    Example ex = Example.newBuilder().setFeatures(Features.newBuilder().putFeature("x",
        Feature.newBuilder().setFloatList(FloatList.newBuilder().addValue(6f)).build())).build();
    Path npy = tmp.resolve("examples.npy");
    Npy.write(HostTensor.ofStrings(new long[] {1}, new byte[][] {ex.toByteArray()}), npy);
    Path out = tmp.resolve("out.npz");
    Cli.Result r = Cli.run("run", TestModels.shared("half_plus_two_tf1").toString(), "--signature", "regress_x_to_y",
        "--input", "inputs=" + npy, "-o", out.toString());
    assertExit(0, r);
    HostTensor y = Npz.read(out).get("outputs");
    assertEquals(1, y.numElements());
    assertEquals(5.0, y.getDouble(0)); // 6 / 2 + 2
  }

  @Test
  @DisplayName("run --input x=0.5 where the model takes [1]: a number fills a one-element input")
  void runScalarWhereOneElementExpected() {
    Cli.Result r = Cli.run("run", tf2().toString(), "--input", "x=0.5");
    assertExit(0, r);
    assertTrue(r.out().contains("y: float32 [1]  min 2.25000  max 2.25000"), r.out());
  }

  @Test
  @DisplayName("run --input X=0.5 where the model takes [?, 784] exits 2")
  void runScalarWhereVectorExpected() {
    Path mlp = TestModels.shared("mlp-fc-layers/frozen.pb");
    Cli.Result r = Cli.run("run", mlp.toString(), "--input", "X=0.5");
    assertExit(2, r);
    assertEquals("tftrt: input 'X' of " + mlp + " takes shape [?, 784], but [] was given.", r.firstErrLine());
  }

  @Test
  @DisplayName("run --input x=bad.npy with a malformed .npy exits 2 and writes no -o file")
  void runMalformedNpy() throws IOException {
    Path bad = Files.writeString(tmp.resolve("bad.npy"), "this is not numpy");
    Path out = tmp.resolve("out.npz");
    Cli.Result r = Cli.run("run", tf2().toString(), "--input", "x=" + bad, "-o", out.toString());
    assertExit(2, r);
    assertEquals("tftrt: " + bad + " is not a NumPy .npy file: it does not start with the \\x93NUMPY magic.",
        r.firstErrLine());
    assertEquals(List.of("bad.npy"), TestModels.listing(tmp));
  }

  @Test
  @DisplayName("run --input with a value that is not a number")
  void runNonNumericValue() {
    Cli.Result r = Cli.run("run", tf2().toString(), "--input", "x=four");
    assertExit(2, r);
    assertEquals("tftrt: --input x=four is neither a .npy file, @file, nor a number.", r.firstErrLine());
  }

  @Test
  @DisplayName("run without inputs and without --random")
  void runWithoutInputs() {
    Cli.Result r = Cli.run("run", tf2().toString());
    assertExit(2, r);
    assertEquals("tftrt: input 'x' was not given: pass --input x=FILE.npy, or --random.", r.firstErrLine());
  }

  @Test
  @DisplayName("run --input for an input the model does not have")
  void runUnknownInput() {
    Cli.Result r = Cli.run("run", tf2().toString(), "--input", "z=1");
    assertExit(2, r);
    assertEquals("tftrt: " + tf2() + " has no input 'z'; its inputs are: x.", r.firstErrLine());
  }

  @Test
  @DisplayName("run --random prints each output's summary")
  void runRandom() {
    Cli.Result r = Cli.run("run", TestModels.shared("mlp-fc-layers/frozen.pb").toString(), "--random",
        "--shape", "X=3,784");
    assertExit(0, r);
    assertTrue(r.out().contains("inputs: random (seed 0)"), r.out());
    assertTrue(r.out().contains("output: float32 [3, 10]  min "), r.out());
  }

  // ------------------------------------------------------------------ demo, help, usage

  @Test
  @DisplayName("demo --dir builds, freezes and compares the demo model")
  void demo() {
    Path dir = tmp.resolve("demo");
    Cli.Result r = Cli.run("demo", "--dir", dir.toString());
    assertExit(0, r);
    assertTrue(Files.isRegularFile(dir.resolve("saved_model/saved_model.pb")));
    assertTrue(Files.isRegularFile(dir.resolve("frozen.pb")));
    assertTrue(Files.isRegularFile(dir.resolve("frozen.json")));
    assertTrue(r.out().contains("verified: bit-identical"), r.out());
    assertTrue(r.out().contains("done: models are in " + dir), r.out());

    Cli.Result again = Cli.run("demo", "--dir", dir.toString());
    assertExit(2, again);
    assertEquals("tftrt: cannot write " + dir + ": it is a folder of files tftrt did not write; name a new or"
        + " empty folder.", again.firstErrLine());
  }

  @ParameterizedTest(name = "{0} --help")
  @ValueSource(strings = {"freeze", "run", "compare", "demo"})
  @DisplayName("--help of each subcommand exits 0")
  void subcommandHelp(String sub) {
    Cli.Result r = Cli.run(sub, "--help");
    assertExit(0, r);
    assertTrue(r.out().startsWith("Usage: tftrt " + sub), r.out());
    assertEquals("", r.err());
  }

  @Test
  @DisplayName("tftrt --help lists the subcommands")
  void topLevelHelp() {
    Cli.Result r = Cli.run("--help");
    assertExit(0, r);
    for (String sub : List.of("freeze", "run", "compare", "demo")) {
      assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith(sub + " ")), sub + " missing from\n" + r.out());
    }
  }

  @Test
  @DisplayName("an unknown option exits 2 with the usage")
  void unknownOption() {
    Cli.Result r = Cli.run("run", "model.pb", "--bogus");
    assertExit(2, r);
    assertEquals("tftrt: Unknown option: '--bogus'", r.firstErrLine());
    assertTrue(r.err().contains("Usage: tftrt run"), r.err());
    assertEquals("", r.out());
  }

  @Test
  @DisplayName("an unknown subcommand exits 2")
  void unknownSubcommand() {
    Cli.Result r = Cli.run("melt", "model.pb");
    assertExit(2, r);
    assertTrue(r.firstErrLine().startsWith("tftrt: Unmatched arguments from index 0: 'melt'"), r.err());
  }

  @Test
  @DisplayName("no subcommand at all exits 2")
  void noSubcommand() {
    Cli.Result r = Cli.run();
    assertExit(2, r);
    assertEquals("tftrt: a subcommand is required", r.firstErrLine());
  }

  @Test
  @DisplayName("error output is one line without a stack trace unless --verbose")
  void quietErrors() {
    Cli.Result r = Cli.run("freeze", tmp.resolve("x").toString(), "-o", tmp.resolve("o.pb").toString());
    assertExit(2, r);
    assertEquals(1, r.err().lines().count(), r.err());
    assertFalse(r.err().contains("\tat "), r.err());
  }
}
