package dev.tftrt.segment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.TfGraph;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.TensorProtos;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Issue 9: outside any loop, an engine runs once per model call, and on a CPU backend that call
 * (about 12 µs with the native runner) costs more than a few small ops. Where every tensor the
 * cluster reads has a fixed shape its work is known, and a cluster too small to pay stays in
 * TensorFlow there; with an unknown dimension (a batch) it may be any size, and it stays an
 * engine; for TensorRT every cluster of the minimum size is one.
 */
class FixedShapeRuleTest {
  private static final Function<NodeView, Optional<String>> RULE = n ->
      Set.of("Neg", "Abs", "Exp", "Tanh", "MatMul", "Tile").contains(n.op()) ? Optional.empty() : Optional.of("not in the test set.");

  private static AttrValue type(DataType t) {
    return AttrValue.newBuilder().setType(t).build();
  }

  /** x of the given shape, then an optional MatMul by a constant [cols, cols], then a chain of ops. */
  static GraphDef chain(long[] xShape, int ops, int cols) {
    GraphDef.Builder g = GraphDef.newBuilder();
    g.addNode(NodeDef.newBuilder().setName("x").setOp("Placeholder").putAttr("dtype", type(DataType.DT_FLOAT))
        .putAttr("shape", AttrValue.newBuilder().setShape(TensorProtos.shape(xShape)).build()));
    String prev = "x";
    if (cols > 0) {
      g.addNode(NodeDef.newBuilder().setName("w").setOp("Const").putAttr("dtype", type(DataType.DT_FLOAT))
          .putAttr("value", AttrValue.newBuilder().setTensor(TensorProtos.fromHost(HostTensor.ofFloats(
              new long[] {cols, cols}, new float[cols * cols]))).build()));
      g.addNode(NodeDef.newBuilder().setName("mm").setOp("MatMul").addInput("x").addInput("w").putAttr("T", type(DataType.DT_FLOAT)));
      prev = "mm";
    }
    String[] names = {"Neg", "Abs", "Exp", "Tanh"};
    for (int k = 0; k < ops; k++) {
      g.addNode(NodeDef.newBuilder().setName("o" + k).setOp(names[k % names.length]).addInput(prev)
          .putAttr("T", type(DataType.DT_FLOAT)));
      prev = "o" + k;
    }
    return g.build();
  }

  private static SegmentPlan plan(GraphDef g, Segmenter.Target target) {
    String last = g.getNode(g.getNodeCount() - 1).getName();
    return new Segmenter(RULE, Segmenter.Options.defaults().withTarget(target))
        .segment(TfGraph.of(g), Set.of("x"), Set.of(last + ":0"));
  }

  @Test
  void aSmallClusterOnFixedShapesStaysInTensorFlowOnTheCpuOnly() {
    GraphDef g = chain(new long[] {1, 4}, 3, 0);
    SegmentPlan cpu = plan(g, Segmenter.Target.CPU);
    assertEquals(0, cpu.segments().size());
    for (String n : List.of("o0", "o1", "o2")) {
      String why = cpu.rejected().get(n);
      assertTrue(why != null && why.startsWith(Segmenter.ONCE_TOO_SMALL + ": on its fixed shapes its 3 op(s) (12 FLOPs)"), n + ": " + why);
    }
    assertEquals(1, plan(g, Segmenter.Target.GPU).segments().size(), "TensorRT gets its engine");
  }

  @Test
  void anUnknownBatchKeepsTheEngine() {
    SegmentPlan cpu = plan(chain(new long[] {-1, 4}, 3, 0), Segmenter.Target.CPU);
    assertEquals(1, cpu.segments().size(), "a batch of any size may come: " + cpu.rejected());
  }

  @Test
  void aSizeComputedFromValuesKeepsTheEngine() {
    // Tile by multiples fed at run time: its inputs' shapes are fixed, its output's size is not.
    GraphDef.Builder g = GraphDef.newBuilder();
    g.addNode(NodeDef.newBuilder().setName("x").setOp("Placeholder").putAttr("dtype", type(DataType.DT_FLOAT))
        .putAttr("shape", AttrValue.newBuilder().setShape(TensorProtos.shape(new long[] {1, 4})).build()));
    g.addNode(NodeDef.newBuilder().setName("m").setOp("Placeholder").putAttr("dtype", type(DataType.DT_INT32))
        .putAttr("shape", AttrValue.newBuilder().setShape(TensorProtos.shape(new long[] {2})).build()));
    g.addNode(NodeDef.newBuilder().setName("o0").setOp("Neg").addInput("x").putAttr("T", type(DataType.DT_FLOAT)));
    g.addNode(NodeDef.newBuilder().setName("o1").setOp("Tile").addInput("o0").addInput("m")
        .putAttr("T", type(DataType.DT_FLOAT)).putAttr("Tmultiples", type(DataType.DT_INT32)));
    g.addNode(NodeDef.newBuilder().setName("o2").setOp("Exp").addInput("o1").putAttr("T", type(DataType.DT_FLOAT)));
    SegmentPlan cpu = new Segmenter(RULE, Segmenter.Options.defaults().withTarget(Segmenter.Target.CPU))
        .segment(TfGraph.of(g.build()), Set.of("x", "m"), Set.of("o2:0"));
    assertEquals(1, cpu.segments().size(), "the tiled size may be anything: " + cpu.rejected());
  }

  @Test
  void enoughOpsOrComputeOnFixedShapesPayForTheCall() {
    int enough = (int) Math.ceil(CpuCallCost.ONCE_CALL_MICROS / CpuCallCost.TF_OP_MICROS);
    assertEquals(1, plan(chain(new long[] {1, 4}, enough, 0), Segmenter.Target.CPU).segments().size());
    assertEquals(0, plan(chain(new long[] {1, 4}, enough - 1, 0), Segmenter.Target.CPU).segments().size());

    // [rows, cols] x [cols, cols]: 2 rows cols² FLOPs, with 2 more ops: 3 ops in all.
    int cols = 64;
    int rows = (int) Math.ceil(CpuCallCost.ONCE_LARGE_FLOPS / (2.0 * cols * cols));
    SegmentPlan big = plan(chain(new long[] {rows, cols}, 2, cols), Segmenter.Target.CPU);
    assertEquals(1, big.segments().size(), "3 ops, but a large matmul: " + big.rejected());
    SegmentPlan small = plan(chain(new long[] {rows / 2, cols}, 2, cols), Segmenter.Target.CPU);
    assertEquals(0, small.segments().size());
    assertNull(small.rejected().get("x"));
  }
}
