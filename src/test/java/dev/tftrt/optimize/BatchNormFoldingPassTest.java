package dev.tftrt.optimize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.TensorProtos;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.nn.Conv2d;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TFloat32;

class BatchNormFoldingPassTest {
  private static final double RTOL = 1e-5;
  private static final double ATOL = 1e-5;

  private static Operand<TFloat32> constant(Ops tf, String name, Random rnd, float lo, float hi, long... shape) {
    float[] v = Graphs.randomArray(rnd, (int) HostTensor.numElements(shape), lo, hi);
    return tf.withName(name).constant(Shape.of(shape), DataBuffers.of(v, true, false));
  }

  /** A batch norm node with random constant parameters for c channels (read through Identity). */
  private static GraphOperation batchNorm(Graph graph, String op, String name, Operand<TFloat32> x, int c,
      String format, boolean training, long seed) {
    Ops tf = Ops.create(graph);
    Random rnd = new Random(seed);
    var gamma = tf.withName(name + "_gamma_read").identity(constant(tf, name + "_gamma", rnd, 0.5f, 1.5f, c));
    var beta = constant(tf, name + "_beta", rnd, -0.5f, 0.5f, c);
    var mean = constant(tf, name + "_mean", rnd, -0.5f, 0.5f, c);
    var var = constant(tf, name + "_variance", rnd, 0.2f, 2f, c);
    return graph.opBuilder(op, name, graph.baseScope())
        .addInput(x.asOutput()).addInput(gamma.asOutput()).addInput(beta.asOutput())
        .addInput(mean.asOutput()).addInput(var.asOutput())
        .setAttr("epsilon", 0.001f).setAttr("is_training", training).setAttr("data_format", format)
        .build();
  }

  @SuppressWarnings("unchecked")
  private static Operand<TFloat32> y(GraphOperation bn) {
    return (Operand<TFloat32>) (Operand<?>) bn.output(0);
  }

  private static Placeholder<TFloat32> input(Ops tf, long... shape) {
    return tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
  }

  private static void assertFoldedIntoWeights(GraphDef g, GraphDef opt, PassContext ctx, String bn,
      Map<String, HostTensor> feeds) {
    assertEquals(0, Graphs.countPrefix(opt, "FusedBatchNorm"));
    assertEquals("BiasAdd", Graphs.node(opt, bn).getOp(), "the bias takes the batch norm's name");
    assertEquals(1, ctx.count(BatchNormFoldingPass.NAME, "folded_into_weights"), ctx.counts(BatchNormFoldingPass.NAME).toString());
    for (NodeDef n : opt.getNodeList()) {
      assertTrue(!n.getName().startsWith(bn + "_gamma") && !n.getName().startsWith(bn + "_mean"),
          "left-over batch norm parameter " + n.getName());
    }
    Graphs.assertSameOutputs(g, opt, feeds, List.of("out"), RTOL, ATOL);
  }

  @Test
  void conv2dNhwc() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Random rnd = new Random(11);
      var x = input(tf, 2, 9, 9, 3);
      var w = tf.withName("conv_weights_read").identity(constant(tf, "conv_weights", rnd, -1, 1, 3, 3, 3, 5));
      var conv = tf.withName("conv").nn.conv2d(x, w, List.of(1L, 2L, 2L, 1L), "SAME");
      var bn = batchNorm(graph, "FusedBatchNormV3", "bn", conv, 5, "NHWC", false, 12);
      tf.withName("out").nn.relu6(y(bn));
      g = graph.toGraphDef();
    }
    PassContext ctx = PassContext.of(List.of("x"), List.of("out"));
    GraphDef opt = new BatchNormFoldingPass().apply(g, ctx);
    Graphs.assertNoNode(opt, "conv_weights");
    Graphs.assertNoNode(opt, "conv_weights_read");
    assertEquals("conv/folded_filter", Graphs.node(opt, "conv").getInput(1));
    assertFoldedIntoWeights(g, opt, ctx, "bn", Map.of("x", Graphs.randomFloats(13, 2, 9, 9, 3)));
  }

  @Test
  void conv2dBiasAddBatchNormV1() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Random rnd = new Random(21);
      var x = input(tf, 1, 7, 6, 2);
      var conv = tf.withName("conv").nn.conv2d(x, constant(tf, "w", rnd, -1, 1, 3, 2, 2, 4), List.of(1L, 1L, 1L, 1L), "VALID");
      var biased = tf.withName("bias_add").nn.biasAdd(conv, constant(tf, "b", rnd, -1, 1, 4));
      var bn = batchNorm(graph, "FusedBatchNorm", "bn", biased, 4, "NHWC", false, 22);
      tf.withName("out").nn.relu(y(bn));
      g = graph.toGraphDef();
    }
    PassContext ctx = PassContext.of(List.of("x"), List.of("out"));
    GraphDef opt = new BatchNormFoldingPass().apply(g, ctx);
    Graphs.assertNoNode(opt, "bias_add");
    Graphs.assertNoNode(opt, "b");
    assertEquals("conv", Graphs.node(opt, "bn").getInput(0));
    assertFoldedIntoWeights(g, opt, ctx, "bn", Map.of("x", Graphs.randomFloats(23, 1, 7, 6, 2)));
  }

  @Test
  void depthwiseWithMultiplier() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Random rnd = new Random(31);
      var x = input(tf, 1, 8, 8, 3);
      var dw = tf.withName("dw").nn.depthwiseConv2dNative(x, constant(tf, "dw_w", rnd, -1, 1, 3, 3, 3, 2),
          List.of(1L, 1L, 1L, 1L), "SAME");
      var bn = batchNorm(graph, "FusedBatchNormV2", "bn", dw, 6, "NHWC", false, 32);
      tf.withName("out").identity(y(bn));
      g = graph.toGraphDef();
    }
    PassContext ctx = PassContext.of(List.of("x"), List.of("out"));
    GraphDef opt = new BatchNormFoldingPass().apply(g, ctx);
    assertFoldedIntoWeights(g, opt, ctx, "bn", Map.of("x", Graphs.randomFloats(33, 1, 8, 8, 3)));
  }

  @Test
  void dilatedDepthwiseThroughSpaceToBatch() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Random rnd = new Random(41);
      var x = input(tf, 1, 8, 8, 4);
      var block = tf.constant(new int[] {2, 2});
      var s2b = tf.withName("s2b").spaceToBatchNd(x, block, tf.constant(new int[][] {{2, 2}, {2, 2}}));
      var dw = tf.withName("dw").nn.depthwiseConv2dNative(s2b, constant(tf, "dw_w", rnd, -1, 1, 3, 3, 4, 1),
          List.of(1L, 1L, 1L, 1L), "VALID");
      var b2s = tf.withName("b2s").batchToSpaceNd(dw, block, tf.constant(new int[][] {{0, 0}, {0, 0}}));
      var bn = batchNorm(graph, "FusedBatchNormV3", "bn", b2s, 4, "NHWC", false, 42);
      tf.withName("out").nn.relu6(y(bn));
      g = graph.toGraphDef();
    }
    PassContext ctx = PassContext.of(List.of("x"), List.of("out"));
    GraphDef opt = new BatchNormFoldingPass().apply(g, ctx);
    assertEquals("b2s", Graphs.node(opt, "bn").getInput(0));
    assertFoldedIntoWeights(g, opt, ctx, "bn", Map.of("x", Graphs.randomFloats(43, 1, 8, 8, 4)));
  }

  @Test
  void conv2dNchw() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Random rnd = new Random(51);
      var x = input(tf, 1, 3, 6, 6);
      var conv = tf.withName("conv").nn.conv2d(x, constant(tf, "w", rnd, -1, 1, 3, 3, 3, 4),
          List.of(1L, 1L, 1L, 1L), "SAME", Conv2d.dataFormat("NCHW"));
      var bn = batchNorm(graph, "FusedBatchNormV3", "bn", conv, 4, "NCHW", false, 52);
      tf.withName("out").identity(y(bn));
      g = graph.toGraphDef();
    }
    PassContext ctx = PassContext.of(List.of("x"), List.of("out"));
    GraphDef opt = new BatchNormFoldingPass().apply(g, ctx);
    assertEquals("NCHW", Graphs.node(opt, "bn").getAttrOrThrow("data_format").getS().toStringUtf8());
    assertFoldedIntoWeights(g, opt, ctx, "bn", Map.of("x", Graphs.randomFloats(53, 1, 3, 6, 6)));
  }

  @Test
  void standaloneBecomesMulAndAdd() {
    for (String format : List.of("NHWC", "NCHW")) {
      GraphDef g;
      try (Graph graph = new Graph()) {
        Ops tf = Ops.create(graph);
        var x = input(tf, 2, 5, 5, 5);
        var bn = batchNorm(graph, "FusedBatchNormV3", "bn", x, 5, format, false, 61);
        tf.withName("out").math.square(y(bn));
        g = graph.toGraphDef();
      }
      PassContext ctx = PassContext.of(List.of("x"), List.of("out"));
      GraphDef opt = new BatchNormFoldingPass().apply(g, ctx);
      assertEquals(0, Graphs.countPrefix(opt, "FusedBatchNorm"));
      assertEquals("AddV2", Graphs.node(opt, "bn").getOp());
      assertEquals(1, Graphs.count(opt, "Mul"));
      assertEquals(1, ctx.count(BatchNormFoldingPass.NAME, "to_mul_add"));
      HostTensor scale = TensorProtos.toHost(Graphs.node(opt, "bn/folded_scale").getAttrOrThrow("value").getTensor());
      assertArrayEquals(format.equals("NHWC") ? new long[] {5} : new long[] {5, 1, 1}, scale.shape(), format);
      Graphs.assertSameOutputs(g, opt, Map.of("x", Graphs.randomFloats(62, 2, 5, 5, 5)), List.of("out"), RTOL, ATOL);
    }
  }

  @Test
  void sharedFilterIsNotChangedButTheBatchNormsStillGo() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Random rnd = new Random(71);
      var x = input(tf, 1, 6, 6, 3);
      var w = constant(tf, "w", rnd, -1, 1, 1, 1, 3, 3);
      var c1 = tf.withName("c1").nn.conv2d(x, w, List.of(1L, 1L, 1L, 1L), "SAME");
      var c2 = tf.withName("c2").nn.conv2d(tf.math.neg(x), w, List.of(1L, 1L, 1L, 1L), "SAME");
      var b1 = batchNorm(graph, "FusedBatchNormV3", "bn1", c1, 3, "NHWC", false, 72);
      var b2 = batchNorm(graph, "FusedBatchNormV3", "bn2", c2, 3, "NHWC", false, 73);
      tf.withName("out").math.add(y(b1), y(b2));
      g = graph.toGraphDef();
    }
    PassContext ctx = PassContext.of(List.of("x"), List.of("out"));
    GraphDef opt = new BatchNormFoldingPass().apply(g, ctx);
    assertEquals(2, ctx.count(BatchNormFoldingPass.NAME, "to_mul_add"));
    assertEquals(Graphs.node(g, "w"), Graphs.node(opt, "w"));
    Graphs.assertSameOutputs(g, opt, Map.of("x", Graphs.randomFloats(74, 1, 6, 6, 3)), List.of("out"), RTOL, ATOL);
  }

  @Test
  void batchNormsThatCannotFoldAreLeft() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Random rnd = new Random(81);
      var x = input(tf, 1, 4, 4, 2);
      var conv = tf.withName("conv").nn.conv2d(x, constant(tf, "w", rnd, -1, 1, 1, 1, 2, 2), List.of(1L, 1L, 1L, 1L), "SAME");
      var stats = batchNorm(graph, "FusedBatchNormV3", "stats", conv, 2, "NHWC", false, 82);
      tf.withName("mean_out").identity(stats.output(1));
      var training = batchNorm(graph, "FusedBatchNorm", "training", y(stats), 2, "NHWC", true, 83);
      var scalePh = tf.withName("gamma").placeholder(TFloat32.class, Placeholder.shape(Shape.of(2)));
      var dynamic = graph.opBuilder("FusedBatchNormV3", "dynamic", graph.baseScope())
          .addInput(y(training).asOutput()).addInput(scalePh.asOutput())
          .addInput(constant(tf, "o", rnd, 0, 1, 2).asOutput()).addInput(constant(tf, "m", rnd, 0, 1, 2).asOutput())
          .addInput(constant(tf, "v", rnd, 1, 2, 2).asOutput()).setAttr("is_training", false).build();
      var designated = batchNorm(graph, "FusedBatchNormV3", "designated", y(dynamic), 2, "NHWC", false, 84);
      tf.withName("out").identity(y(designated));
      g = graph.toGraphDef();
    }
    PassContext ctx = PassContext.of(List.of("x", "gamma"), List.of("out", "mean_out", "designated"));
    GraphDef opt = new BatchNormFoldingPass().apply(g, ctx);
    assertEquals(4, Graphs.countPrefix(opt, "FusedBatchNorm"));
    assertEquals(1, ctx.count(BatchNormFoldingPass.NAME, "kept_stats_read"));
    assertEquals(1, ctx.count(BatchNormFoldingPass.NAME, "kept_training"));
    assertEquals(1, ctx.count(BatchNormFoldingPass.NAME, "kept_not_constant"));
    assertEquals(1, ctx.count(BatchNormFoldingPass.NAME, "kept_protected"));
    assertNotEquals(0, opt.getNodeCount());
    assertEquals(g, opt);
  }

  @Test
  void conv2dWithAddAsBias() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Random rnd = new Random(91);
      var x = input(tf, 1, 5, 5, 2);
      var conv = tf.withName("conv").nn.conv2d(x, constant(tf, "w", rnd, -1, 1, 3, 3, 2, 3), List.of(1L, 1L, 1L, 1L), "SAME");
      var biased = tf.withName("add").math.add(constant(tf, "b", rnd, -1, 1, 3), conv);
      var bn = batchNorm(graph, "FusedBatchNorm", "bn", biased, 3, "NHWC", false, 92);
      tf.withName("out").nn.relu(y(bn));
      g = graph.toGraphDef();
    }
    PassContext ctx = PassContext.of(List.of("x"), List.of("out"));
    GraphDef opt = new BatchNormFoldingPass().apply(g, ctx);
    Graphs.assertNoNode(opt, "add");
    assertFoldedIntoWeights(g, opt, ctx, "bn", Map.of("x", Graphs.randomFloats(93, 1, 5, 5, 2)));
  }

  @Test
  void unfoldedBatchNormAfterMatMulFoldsIntoTheWeights() {
    for (boolean transposed : List.of(false, true)) {
      GraphDef g;
      try (Graph graph = new Graph()) {
        Ops tf = Ops.create(graph);
        Random rnd = new Random(101);
        var x = input(tf, 3, 6);
        var w = constant(tf, "w", rnd, -1, 1, transposed ? new long[] {4, 6} : new long[] {6, 4});
        var mm = tf.withName("mm").linalg.matMul(x, w, org.tensorflow.op.linalg.MatMul.transposeB(transposed));
        var biased = tf.withName("bias").math.add(mm, constant(tf, "b", rnd, -1, 1, 4));
        var scaled = tf.withName("bn_mul").math.mul(biased, constant(tf, "s", rnd, 0.5f, 2f, 4));
        var shifted = tf.withName("bn_add").math.add(scaled, constant(tf, "t", rnd, -1, 1, 4));
        tf.withName("out").nn.relu(shifted);
        g = graph.toGraphDef();
      }
      PassContext ctx = PassContext.of(List.of("x"), List.of("out"));
      GraphDef opt = new BatchNormFoldingPass().apply(g, ctx);
      assertEquals(1, ctx.count(BatchNormFoldingPass.NAME, "unfolded_into_weights"), "transpose_b=" + transposed);
      assertEquals("BiasAdd", Graphs.node(opt, "bn_add").getOp());
      assertEquals("mm", Graphs.node(opt, "bn_add").getInput(0));
      Graphs.assertNoNode(opt, "bn_mul");
      Graphs.assertNoNode(opt, "bias");
      Graphs.assertSameOutputs(g, opt, Map.of("x", Graphs.randomFloats(102, 3, 6)), List.of("out"), RTOL, ATOL);
    }
  }

  @Test
  void mulByAVectorNotAfterALinearOpIsLeft() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      var x = input(tf, 3, 4);
      tf.withName("out").math.add(tf.withName("m").math.mul(tf.math.exp(x), tf.constant(new float[] {1, 2, 3, 4})),
          tf.constant(new float[] {1, 1, 1, 1}));
      g = graph.toGraphDef();
    }
    GraphDef opt = new BatchNormFoldingPass().apply(g, PassContext.of(List.of("x"), List.of("out")));
    assertEquals(g, opt);
  }
}
