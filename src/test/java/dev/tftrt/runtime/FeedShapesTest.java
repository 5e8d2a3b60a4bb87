package dev.tftrt.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.testing.ChildCli;
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
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.proto.VersionDef;

/**
 * Inputs without a usable shape (issue 8, class 5): their shape comes from what reads them, and
 * every feed passes TensorFlow's shape inference before a session runs, so that a kernel that
 * CHECKs its input's rank never aborts the process. Tests that would abort without the check
 * run the CLI in a child JVM.
 */
class FeedShapesTest {
  @TempDir Path tmp;

  /** x (Placeholder, shape attr as given) → Conv2D with a 3x3x2x4 filter, SAME. */
  private static GraphDef convGraph(AttrValue shape, VersionDef versions) {
    NodeDef.Builder x = NodeDef.newBuilder().setName("x").setOp("Placeholder")
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build());
    if (shape != null) x.putAttr("shape", shape);
    NodeDef conv = TfGraphs.op("Conv2D", "conv", "x", "w").toBuilder()
        .putAttr("strides", AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder()
            .addI(1).addI(1).addI(1).addI(1)).build())
        .putAttr("padding", AttrValue.newBuilder().setS(com.google.protobuf.ByteString.copyFromUtf8("SAME")).build())
        .build();
    GraphDef.Builder g = GraphDef.newBuilder().addNode(x)
        .addNode(TfGraphs.constant("w", TestModels.randomFloats(3, 3, 3, 2, 4))).addNode(conv);
    if (versions != null) g.setVersions(versions);
    return g.build();
  }

  private Path write(GraphDef g, String name) throws Exception {
    Path p = tmp.resolve(name);
    Files.write(p, g.toByteArray());
    return p;
  }

  private static String tftrtLine(Cli.Result r) {
    return r.err().lines().filter(l -> l.startsWith("tftrt:")).findFirst().orElse("");
  }

  @Test
  @DisplayName("an input without a shape attribute read by Conv2D gets rank 4 and its filter's channels (child JVM)")
  void noShapeAttrInfersRankFromConv() throws Exception {
    Path pb = write(convGraph(null, null), "noshape.pb");
    Cli.Result r = ChildCli.run("run", pb.toString(), "--random");
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().contains("conv: float32 [1, 1, 1, 4]"), r.out());
  }

  @Test
  @DisplayName("without a versions field, 'shape {}' is an unknown rank as TensorFlow reads it, not a scalar (child JVM)")
  void emptyShapeWithoutVersionsIsUnknown() throws Exception {
    AttrValue empty = AttrValue.newBuilder().setShape(TensorShapeProto.getDefaultInstance()).build();
    GraphDef g = convGraph(empty, null);
    Path pb = write(g, "noversions.pb");
    try (TfModel m = TfModel.load(LoadOptions.of(pb))) {
      assertNull(m.inputs().get(0).shape());
    }
    // With a producer version past 21 the same attribute is a scalar, which Conv2D refuses at import.
    GraphDef v27 = convGraph(empty, VersionDef.newBuilder().setProducer(27).build());
    assertThrows(TftrtException.class, () -> TfModel.fromGraphDef(v27, "v27", List.of(), List.of()).close());
    Cli.Result r = ChildCli.run("run", pb.toString(), "--random");
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().contains("conv: float32 [1, 1, 1, 4]"), r.out());
  }

  @Test
  @DisplayName("a --shape of the wrong rank for Conv2D is refused with one sentence, not an abort (child JVM)")
  void wrongRankShapeIsRefused() throws Exception {
    Path pb = write(convGraph(null, null), "noshape.pb");
    Cli.Result r = ChildCli.run("run", pb.toString(), "--random", "--shape", "x=5");
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: input 'x' of " + pb + " cannot take shape [5]: TensorFlow's shape inference rejects it"
        + " (Shape must be rank 4 but is rank 1 at node 'conv' (Conv2D)); give shapes it takes with --shape"
        + " x=D1,D2,... (or an --input of such a shape).", tftrtLine(r));
  }

  @Test
  @DisplayName("an --input array of the wrong rank is refused the same way (child JVM)")
  void wrongRankInputIsRefused() throws Exception {
    Path pb = write(convGraph(null, null), "noshape.pb");
    Path npy = tmp.resolve("x.npy");
    dev.tftrt.tensor.Npy.write(TestModels.randomFloats(1, 6), npy);
    Cli.Result r = ChildCli.run("run", pb.toString(), "--input", "x=" + npy);
    assertEquals(2, r.code(), r.toString());
    assertTrue(tftrtLine(r).startsWith("tftrt: input 'x' of " + pb + " cannot take shape [6]: "), r.toString());
  }

  @Test
  @DisplayName("a converted model (TftrtModel.call) checks its feeds too: Conv2D left in TensorFlow is never fed a vector (child JVM)")
  void convertedModelChecksFeeds() throws Exception {
    GraphDef conv = convGraph(null, null);
    GraphDef g = conv.toBuilder().addNode(TfGraphs.op("Relu", "r", "conv")).addNode(TfGraphs.op("Abs", "a", "r"))
        .addNode(TfGraphs.op("Neg", "n", "a")).addNode(TfGraphs.op("Exp", "y", "n")).build();
    Path pb = write(g, "conv_tail.pb");
    Path out = tmp.resolve("converted");
    Cli.Result c = Cli.run("convert", pb.toString(), "-o", out.toString(), "--exclude-ops", "Conv2D");
    assertEquals(0, c.code(), c.toString());
    Path npy = tmp.resolve("v.npy");
    dev.tftrt.tensor.Npy.write(TestModels.randomFloats(1, 6), npy);
    Cli.Result r = ChildCli.run("run", out.toString(), "--input", "x=" + npy);
    assertEquals(2, r.code(), r.toString());
    assertTrue(tftrtLine(r).startsWith("tftrt: input 'x' of " + out + " cannot take shape [6]: TensorFlow's shape"
        + " inference rejects it (Shape must be rank 4 but is rank 1 at node 'conv' (Conv2D))"), r.toString());
  }

  @Test
  // In-process on purpose (the API path, not the CLI): should the check regress, TensorFlow
  // aborts the test JVM here and Surefire reports the fork lost with exit 134.
  @DisplayName("in-process: every TfRunner.run is checked, so a wrong rank is an exception")
  void runnerChecksEveryFeed() {
    GraphDef g = convGraph(null, null);
    TensorSpec x = new TensorSpec("x", "x:0", DataType.DT_FLOAT, null);
    TensorSpec conv = new TensorSpec("conv", "conv:0", DataType.DT_FLOAT, null);
    try (TfRunner r = new TfRunner(TfModel.fromGraphDef(g, "g.pb", List.of(x), List.of(conv)))) {
      assertEquals(List.of(1L, 2L, 2L, 4L), boxed(r.run(Map.of("x", TestModels.randomFloats(1, 1, 2, 2, 2))).get("conv").shape()));
      TftrtException e = assertThrows(TftrtException.class,
          () -> r.run(Map.of("x", TestModels.randomFloats(1, 2, 2, 2))));
      assertTrue(e.getMessage().contains("Shape must be rank 4 but is rank 3 at node 'conv' (Conv2D)"), e.getMessage());
    }
  }

  @Test
  @DisplayName("implied shapes: Conv2D (NHWC/NCHW channels), MatMul's inner dimension, a scalar for elementwise ops, none otherwise; only readers the outputs need count")
  void impliedShapes() {
    GraphDef conv = convGraph(null, null);
    TensorSpec x = new TensorSpec("x", "x:0", DataType.DT_FLOAT, null);
    assertArrayEquals(new long[] {1, 1, 1, 2}, FeedShapes.implied(conv, x, List.of("conv")).shape());
    GraphDef nchw = conv.toBuilder().setNode(2, conv.getNode(2).toBuilder().putAttr("data_format",
        AttrValue.newBuilder().setS(com.google.protobuf.ByteString.copyFromUtf8("NCHW")).build())).build();
    assertArrayEquals(new long[] {1, 2, 1, 1}, FeedShapes.implied(nchw, x, List.of("conv")).shape());
    GraphDef mm = TfGraphs.graph(List.of(TfGraphs.placeholder("x", DataType.DT_FLOAT).toBuilder().removeAttr("shape").build(),
        TfGraphs.constant("w", TestModels.randomFloats(1, 7, 3)), TfGraphs.op("Relu", "r", "x"),
        TfGraphs.op("MatMul", "y", "r", "w")));
    assertArrayEquals(new long[] {1, 7}, FeedShapes.implied(mm, x, List.of("y")).shape());
    GraphDef add = TfGraphs.graph(List.of(TfGraphs.placeholder("x", DataType.DT_FLOAT).toBuilder().removeAttr("shape").build(),
        TfGraphs.constant("c", TestModels.randomFloats(1, 2, 3)), TfGraphs.op("Add", "y", "c", "x")));
    assertArrayEquals(new long[0], FeedShapes.implied(add, x, List.of("y")).shape());
    GraphDef transpose = TfGraphs.graph(List.of(TfGraphs.placeholder("x", DataType.DT_FLOAT).toBuilder().removeAttr("shape").build(),
        TfGraphs.op("Add", "y", "x", "x"), TfGraphs.op("Transpose", "t", "x", "x")));
    assertNull(FeedShapes.implied(transpose, x, List.of("y", "t")));
    // A reader the outputs do not need (a training graph's gradient op) says nothing.
    assertArrayEquals(new long[0], FeedShapes.implied(transpose, x, List.of("y")).shape());
  }

  @Test
  @DisplayName("fsrcnn-x2 (no shape on its input) with --random and no --shape infers rank 4 and runs instead of aborting (child JVM)")
  void fsrcnnRandomDoesNotAbort() {
    Path model = TestModels.shared("fsrcnn-x2/FSRCNN_x2.pb");
    Cli.Result r = ChildCli.run("run", model.toString(), "--random");
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().contains("NCHW_output: float32 [1, 1, 2, 2]"), r.out());
    Cli.Result wrong = ChildCli.run("run", model.toString(), "--random", "--shape", "IteratorGetNext=1,120,160");
    assertEquals(2, wrong.code(), wrong.toString());
    assertTrue(tftrtLine(wrong).contains("--shape IteratorGetNext=D1,D2,..."), wrong.toString());
  }

  @Test
  @DisplayName("fsrcnn-x2 with --shape IteratorGetNext=1,120,160,1 converts and compares")
  void fsrcnnConvertsAndCompares() {
    Path model = TestModels.shared("fsrcnn-x2/FSRCNN_x2.pb");
    Path out = tmp.resolve("fsrcnn");
    Cli.Result c = Cli.run("convert", model.toString(), "-o", out.toString(), "--shape", "IteratorGetNext=1,120,160,1");
    assertEquals(0, c.code(), c.toString());
    assertTrue(c.out().contains("compute-heavy ops in engines: 8 of 8"), c.out());
    Cli.Result cmp = Cli.run("compare", model.toString(), out.toString(), "--random",
        "--shape", "IteratorGetNext=1,120,160,1", "--rtol", "1e-3", "--atol", "1e-4");
    assertEquals(0, cmp.code(), cmp.toString());
    assertTrue(cmp.out().contains("NCHW_output"), cmp.out());
  }

  private static List<Long> boxed(long[] a) {
    return java.util.Arrays.stream(a).boxed().toList();
  }
}
