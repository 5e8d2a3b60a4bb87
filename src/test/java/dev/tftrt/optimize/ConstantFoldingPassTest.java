package dev.tftrt.optimize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.TensorProtos;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

class ConstantFoldingPassTest {
  private static final Map<String, HostTensor> FEED = Map.of("x", Graphs.randomFloats(3, 2, 3));

  private static HostTensor valueOf(GraphDef g, String node) {
    NodeDef n = Graphs.node(g, node);
    assertEquals("Const", n.getOp(), node + " should be a Const");
    return TensorProtos.toHost(n.getAttrOrThrow("value").getTensor());
  }

  @Test
  void foldsConstantSubgraphsIntoConstants() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(2, 3)));
      var a = tf.withName("a").constant(new float[] {1, 2, 3});
      var b = tf.withName("b").constant(new float[] {0.5f, 0.25f, 4});
      var sum = tf.withName("sum").math.add(a, b);
      var scaled = tf.withName("scaled").math.mul(tf.withName("sq").math.square(sum), tf.constant(0.1f));
      var y = tf.withName("y").math.mul(x, scaled);
      tf.withName("out").math.add(y, sum); // sum is read outside the folded part too
      g = graph.toGraphDef();
    }
    PassContext ctx = PassContext.of(List.of("x"), List.of("out"));
    GraphDef opt = new ConstantFoldingPass().apply(g, ctx);
    Graphs.assertNoNode(opt, "sq");
    Graphs.assertNoNode(opt, "a");
    assertEquals("Const", Graphs.node(opt, "scaled").getOp());
    assertEquals("Const", Graphs.node(opt, "sum").getOp(), "a folded single-output node keeps its name");
    HostTensor scaled = valueOf(opt, "scaled");
    assertEquals(0.1 * 1.5 * 1.5, scaled.getDouble(0), 1e-6);
    assertEquals(0.1 * 49, scaled.getDouble(2), 1e-5);
    assertEquals(2, ctx.count(ConstantFoldingPass.NAME, "constants"));
    assertEquals(3, ctx.count(ConstantFoldingPass.NAME, "folded"), ctx.counts(ConstantFoldingPass.NAME).toString());
    assertEquals(2, Graphs.count(opt, "Mul") + Graphs.count(opt, "AddV2") + Graphs.count(opt, "Add"));
    Graphs.assertSameOutputs(g, opt, FEED, List.of("out"), 1e-6, 1e-7);
  }

  @Test
  void randomStatefulAndPlaceholderOpsDoNotFold() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(2, 3)));
      var shape = tf.withName("shape").constant(new int[] {2, 3});
      var r = tf.withName("rnd").random.randomUniform(shape, TFloat32.class);
      var sr = tf.withName("srnd").random.statelessRandomUniform(shape,
          tf.constant(new long[] {1, 2}), TFloat32.class);
      var noise = tf.withName("noise").math.add(r, sr);
      tf.withName("out").math.add(x, tf.withName("zero").math.mul(noise, tf.constant(0f)));
      g = graph.toGraphDef();
    }
    PassContext ctx = PassContext.of(List.of("x"), List.of("out"));
    GraphDef opt = new ConstantFoldingPass().apply(g, ctx);
    for (String kept : List.of("rnd", "srnd", "noise", "zero")) {
      assertTrue(!Graphs.node(opt, kept).getOp().equals("Const"), kept + " must not be folded");
    }
    assertEquals(0, ctx.count(ConstantFoldingPass.NAME, "constants"));
    Graphs.assertIdenticalOutputs(g, opt, FEED, List.of("out"));
  }

  /** out = x + mean(fill([1024, 1024], 1.5)): the filled tensor is 4 MiB. */
  private static GraphDef filled() {
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(2, 3)));
      var big = tf.withName("big").fill(tf.constant(new int[] {1024, 1024}), tf.constant(1.5f));
      var noise = tf.withName("noise").random.randomUniform(tf.constant(new int[] {1024, 1024}), TFloat32.class);
      var masked = tf.withName("masked").math.mul(big, tf.math.mul(noise, tf.constant(0f)));
      tf.withName("out").math.add(x, tf.math.add(tf.withName("m").math.mean(big, tf.constant(new int[] {0, 1})),
          tf.math.mean(masked, tf.constant(new int[] {0, 1}))));
      return graph.toGraphDef();
    }
  }

  @Test
  void resultsAboveTheSizeLimitAreNotMaterialised() {
    GraphDef g = filled();
    PassContext small = PassContext.of(List.of("x"), List.of("out")).maxConstantBytes(1 << 20);
    GraphDef opt = new ConstantFoldingPass().apply(g, small);
    assertEquals("Fill", Graphs.node(opt, "big").getOp());
    assertEquals("Mean", Graphs.node(opt, "m").getOp(), "what reads the unfolded result is computed too");
    assertTrue(small.count(ConstantFoldingPass.NAME, "skipped_too_large") >= 1);
    Graphs.assertSameOutputs(g, opt, FEED, List.of("out"), 1e-6, 1e-6);

    PassContext dflt = PassContext.of(List.of("x"), List.of("out"));
    GraphDef opt2 = new ConstantFoldingPass().apply(g, dflt);
    assertEquals("Const", Graphs.node(opt2, "big").getOp(), "4 MiB is within the default 16 MiB");
    assertEquals(0, dflt.count(ConstantFoldingPass.NAME, "skipped_too_large"));
  }

  @Test
  void shapeSizeAndRankOfStaticShapesFold() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(2, 3)));
      var u = tf.withName("u").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 3)));
      var s = tf.withName("s").shape(x);
      var n = tf.withName("n").size(x);
      var r = tf.withName("r").rank(u);
      var su = tf.withName("su").shape(u);
      var flat = tf.withName("flat").reshape(x, tf.withName("flat_shape").stack(List.of(n)));
      var back = tf.withName("back").reshape(flat, s);
      var ranks = tf.withName("ranks").dtypes.cast(tf.math.add(r, tf.constant(1)), TFloat32.class);
      var total = tf.withName("total").dtypes.cast(tf.reduceProd(su, tf.constant(0)), TFloat32.class);
      tf.withName("out").math.add(tf.math.mul(back, ranks), tf.math.add(total, tf.reduceSum(u, tf.constant(new int[] {0, 1}))));
      g = graph.toGraphDef();
    }
    PassContext ctx = PassContext.of(List.of("x", "u"), List.of("out"));
    GraphDef opt = new ConstantFoldingPass().apply(g, ctx);
    assertEquals(3, ctx.count(ConstantFoldingPass.NAME, "shape_folded"));
    assertEquals("Const", Graphs.node(opt, "flat_shape").getOp(), "Pack of a folded Size folds on");
    assertEquals("Const", Graphs.node(opt, "ranks").getOp());
    assertEquals("Shape", Graphs.node(opt, "su").getOp(), "unknown dimension: not folded");
    HostTensor s = valueOf(opt, "s");
    assertEquals(TInt32.class.getSimpleName(), "TInt32");
    assertEquals(2, s.getDouble(0));
    assertEquals(3, s.getDouble(1));
    Map<String, HostTensor> feeds = Map.of("x", Graphs.randomFloats(4, 2, 3), "u", Graphs.randomFloats(5, 4, 3));
    Graphs.assertSameOutputs(g, opt, feeds, List.of("out"), 1e-6, 1e-6);
  }

  @Test
  void multiOutputNodesGetOneConstantPerReadOutput() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(2, 3)));
      var c = tf.withName("c").constant(new float[][] {{1, 2, 3}, {4, 5, 6}});
      var parts = tf.withName("split").split(tf.constant(0), c, 2L);
      tf.withName("out").math.add(tf.math.mul(x, parts.output().get(0)), parts.output().get(1));
      g = graph.toGraphDef();
    }
    PassContext ctx = PassContext.of(List.of("x"), List.of("out"));
    GraphDef opt = new ConstantFoldingPass().apply(g, ctx);
    Graphs.assertNoNode(opt, "split");
    assertEquals(2, ctx.count(ConstantFoldingPass.NAME, "constants"));
    assertEquals(5.0, valueOf(opt, "split/folded_1").getDouble(1));
    Graphs.assertIdenticalOutputs(g, opt, FEED, List.of("out"));
  }

  @Test
  void aDesignatedOutputThatIsConstantKeepsItsName() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(2, 3)));
      var k = tf.withName("k").math.mul(tf.constant(new float[] {1, 2, 3}), tf.constant(2f));
      tf.withName("y").math.add(x, k);
      g = graph.toGraphDef();
    }
    GraphDef opt = new ConstantFoldingPass().apply(g, PassContext.of(List.of("x"), List.of("y", "k")));
    assertEquals(6.0, valueOf(opt, "k").getDouble(2));
    Graphs.assertIdenticalOutputs(g, opt, FEED, List.of("y", "k"));
  }

  @Test
  void constantsWaitingOnComputedNodesAreNotFoldedAway() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(2, 3)));
      var check = tf.withName("check").assertThat(tf.math.greater(tf.reduceSum(x, tf.constant(new int[] {0, 1})),
          tf.constant(-100f)), List.of(x));
      var gated = tf.withName("gated").withControlDependencies(List.of(check)).constant(3f);
      tf.withName("y").math.mul(x, tf.withName("sq").math.square(gated));
      g = graph.toGraphDef();
    }
    GraphDef opt = new ConstantFoldingPass().apply(g, PassContext.of(List.of("x"), List.of("y")));
    assertEquals("Square", Graphs.node(opt, "sq").getOp(), "folding would drop the wait on the Assert");
    assertTrue(Graphs.has(opt, "check"));
  }

  /** A quantize_weights graph: x -> Conv2D(Dequantize(quint8 filter)); the same weights also added. */
  private static GraphDef dequantizedFilter(boolean alsoAdded) {
    try (dev.tftrt.convert.TfBuilder b = new dev.tftrt.convert.TfBuilder()) {
      var x = b.placeholder("x", org.tensorflow.proto.DataType.DT_FLOAT, 1, 4, 4, 2);
      byte[] levels = new byte[2 * 2 * 2 * 2];
      for (int i = 0; i < levels.length; i++) levels[i] = (byte) (i * 37);
      var q = b.quantizedConst("q", org.tensorflow.proto.DataType.DT_QUINT8, new long[] {2, 2, 2, 2}, levels);
      var w = b.op("Dequantize").name("w").in(q, b.floats(new long[0], -1f), b.floats(new long[0], 2f))
          .attr("T", org.tensorflow.proto.DataType.DT_QUINT8).attr("mode", "MIN_FIRST").out();
      var y = b.op("Conv2D").name("conv").in(x, w).attr("T", org.tensorflow.proto.DataType.DT_FLOAT)
          .attr("strides", new long[] {1, 1, 1, 1}).attr("padding", "VALID").out();
      if (alsoAdded) {
        var s = b.op("Sum").in(w, b.ints(0, 1, 2, 3)).attr("T", org.tensorflow.proto.DataType.DT_FLOAT).out();
        b.op("Add").name("out").in(y, s).attr("T", org.tensorflow.proto.DataType.DT_FLOAT).build();
      } else {
        b.op("Identity").name("out").in(y).attr("T", org.tensorflow.proto.DataType.DT_FLOAT).build();
      }
      return b.graphDef();
    }
  }

  @Test
  void aDequantizedFilterStays8BitForTheConverter() {
    GraphDef g = dequantizedFilter(false);
    PassContext ctx = PassContext.of(List.of("x"), List.of("out"));
    GraphDef opt = new ConstantFoldingPass().apply(g, ctx);
    assertEquals("Dequantize", Graphs.node(opt, "w").getOp(), "a float32 filter would take four times the bytes");
    assertEquals("Const", Graphs.node(opt, "q").getOp());
    assertEquals(1, ctx.count(ConstantFoldingPass.NAME, "kept_8bit"));
    Graphs.assertSameOutputs(g, opt, Map.of("x", Graphs.randomFloats(5, 1, 4, 4, 2)), List.of("out"), 0, 0);
  }

  @Test
  void aDequantizeAnythingElseReadsFolds() {
    GraphDef opt = new ConstantFoldingPass().apply(dequantizedFilter(true), PassContext.of(List.of("x"), List.of("out")));
    assertEquals("Const", Graphs.node(opt, "w").getOp(), "the Sum needs the floats: folded as before");
  }
}
