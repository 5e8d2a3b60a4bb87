package dev.tftrt.segment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.TfGraph;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.TensorProtos;
import java.util.ArrayList;
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
 * Issue 9: an engine inside a TF1 while loop runs once per iteration, and on a CPU backend each
 * call costs more than a few small ops; the segmenter leaves such clusters in TensorFlow there,
 * says why, and still forms them for TensorRT. The loop is built by hand (Enter, Merge, Switch,
 * LoopCond, NextIteration, Exit), with a chain of candidate ops as its body and three more
 * after its Exit; the frame name has slashes, as TensorFlow's own do.
 */
public class CpuLoopRuleTest {
  private static final Set<String> OK = Set.of("Neg", "Abs", "Exp", "Tanh", "MatMul");
  private static final Function<NodeView, Optional<String>> RULE = n ->
      OK.contains(n.op()) ? Optional.empty() : Optional.of("op " + n.op() + " is not in the test set.");

  private static AttrValue type(DataType t) {
    return AttrValue.newBuilder().setType(t).build();
  }

  private static NodeDef node(String name, String op, DataType t, String... inputs) {
    NodeDef.Builder b = NodeDef.newBuilder().setName(name).setOp(op).putAttr("T", type(t));
    for (String i : inputs) b.addInput(i);
    return b.build();
  }

  private static NodeDef constant(String name, int value, String control) {
    return NodeDef.newBuilder().setName(name).setOp("Const").addInput(control)
        .putAttr("dtype", type(DataType.DT_INT32))
        .putAttr("value", AttrValue.newBuilder().setTensor(TensorProtos.fromHost(HostTensor.ofInts(new long[0], value))).build()).build();
  }

  private static NodeDef enter(String name, String input, DataType t) {
    return node(name, "Enter", t, input).toBuilder()
        .putAttr("frame_name", AttrValue.newBuilder().setS(com.google.protobuf.ByteString.copyFromUtf8("net/rnn/while/while_context")).build())
        .putAttr("is_constant", AttrValue.newBuilder().setB(false).build())
        .putAttr("parallel_iterations", AttrValue.newBuilder().setI(1).build()).build();
  }

  private static NodeDef merge(String name, DataType t, String a, String b) {
    return node(name, "Merge", t, a, b).toBuilder().putAttr("N", AttrValue.newBuilder().setI(2).build()).build();
  }

  /** A loop of three iterations whose body is a chain of {@code bodyOps} candidates, then Neg, Abs, Exp. */
  static GraphDef loop(int bodyOps) {
    return loop(bodyOps, 0);
  }

  /**
   * Batch of x unknown: the loop variable's size is not fixed, so the ops after the loop stay an
   * engine on the CPU too (with x fixed at [1, 4] they would be too small to pay for a call).
   */
  static GraphDef loop(int bodyOps, int rows) {
    return loop(bodyOps, rows, new long[] {-1, 4});
  }

  /**
   * With {@code rows} > 0 the body starts with a MatMul of two loop constants, [rows, 3] by [3,
   * rows] (6 rows² FLOPs): the loop-carried value's shape is unknown to TensorFlow's inference,
   * the constants' is not.
   */
  public static GraphDef loop(int bodyOps, int rows, long[] xShape) {
    GraphDef.Builder g = GraphDef.newBuilder();
    g.addNode(NodeDef.newBuilder().setName("x").setOp("Placeholder").putAttr("dtype", type(DataType.DT_FLOAT))
        .putAttr("shape", AttrValue.newBuilder().setShape(TensorProtos.shape(xShape)).build()));
    g.addNode(NodeDef.newBuilder().setName("i0").setOp("Const").putAttr("dtype", type(DataType.DT_INT32))
        .putAttr("value", AttrValue.newBuilder().setTensor(TensorProtos.fromHost(HostTensor.ofInts(new long[0], 0))).build()));
    g.addNode(enter("enter", "x", DataType.DT_FLOAT));
    g.addNode(enter("i_enter", "i0", DataType.DT_INT32));
    g.addNode(merge("merge", DataType.DT_FLOAT, "enter", "next"));
    g.addNode(merge("i_merge", DataType.DT_INT32, "i_enter", "i_next"));
    g.addNode(constant("limit", 3, "^i_merge"));
    g.addNode(node("less", "Less", DataType.DT_INT32, "i_merge", "limit"));
    g.addNode(NodeDef.newBuilder().setName("cond").setOp("LoopCond").addInput("less"));
    g.addNode(node("switch", "Switch", DataType.DT_FLOAT, "merge", "cond"));
    g.addNode(node("i_switch", "Switch", DataType.DT_INT32, "i_merge", "cond"));
    g.addNode(node("body", "Identity", DataType.DT_FLOAT, "switch:1"));
    String[] ops = {"Neg", "Abs", "Exp", "Tanh"};
    String prev = "body";
    if (rows > 0) {
      for (String w : List.of("w1", "w2")) {
        long[] shape = w.equals("w1") ? new long[] {rows, 3} : new long[] {3, rows};
        g.addNode(NodeDef.newBuilder().setName(w).setOp("Const").putAttr("dtype", type(DataType.DT_FLOAT))
            .putAttr("value", AttrValue.newBuilder().setTensor(TensorProtos.fromHost(HostTensor.ofFloats(shape,
                new float[3 * rows]))).build()));
        g.addNode(enter(w + "_enter", w, DataType.DT_FLOAT).toBuilder()
            .putAttr("is_constant", AttrValue.newBuilder().setB(true).build()).build());
      }
      g.addNode(node("mm", "MatMul", DataType.DT_FLOAT, "w1_enter", "w2_enter"));
      prev = "mm";
    }
    for (int k = 0; k < bodyOps; k++) {
      g.addNode(node("b" + k, ops[k % ops.length], DataType.DT_FLOAT, prev));
      prev = "b" + k;
    }
    g.addNode(node("next", "NextIteration", DataType.DT_FLOAT, prev));
    g.addNode(constant("one", 1, "^i_merge"));
    g.addNode(node("i_add", "Sub", DataType.DT_INT32, "i_switch:1", "one"));
    g.addNode(node("i_next", "NextIteration", DataType.DT_INT32, "i_add"));
    g.addNode(node("exit", "Exit", DataType.DT_FLOAT, "switch:0"));
    g.addNode(node("a0", "Neg", DataType.DT_FLOAT, "exit"));
    g.addNode(node("a1", "Abs", DataType.DT_FLOAT, "a0"));
    g.addNode(node("a2", "Exp", DataType.DT_FLOAT, "a1"));
    return g.build();
  }

  private static SegmentPlan plan(GraphDef g, boolean cpu) {
    Segmenter.Options o = Segmenter.Options.defaults().withTarget(cpu ? Segmenter.Target.CPU : Segmenter.Target.GPU);
    return new Segmenter(RULE, o).segment(TfGraph.of(g), Set.of("x"), Set.of("a2:0"));
  }

  private static List<List<String>> members(SegmentPlan p) {
    List<List<String>> m = new ArrayList<>();
    for (Segment s : p.segments()) m.add(s.nodes());
    return m;
  }

  @Test
  void aSmallLoopBodyIsAnEngineForTensorRtOnly() {
    GraphDef g = loop(4);
    assertEquals(List.of(List.of("b0", "b1", "b2", "b3"), List.of("a0", "a1", "a2")), members(plan(g, false)));

    SegmentPlan cpu = plan(g, true);
    assertEquals(List.of(List.of("a0", "a1", "a2")), members(cpu), "the ops after the loop's Exit are outside it");
    for (String n : List.of("b0", "b1", "b2", "b3")) {
      String why = cpu.rejected().get(n);
      assertTrue(why != null && why.startsWith("inside a while loop, too small for a CPU engine call: "), n + ": " + why);
      assertTrue(why.contains("its 4 op(s)"), why);
    }
  }

  @Test
  void aLoopBodyWorthACallIsAnEngineOnTheCpuToo() {
    int enough = (int) Math.ceil(CpuCallCost.CALL_MICROS / CpuCallCost.TF_OP_MICROS);
    assertEquals(2, plan(loop(enough), true).segments().size());
    SegmentPlan below = plan(loop(enough - 1), true);
    assertEquals(1, below.segments().size());
    assertEquals(enough - 1, below.rejected().keySet().stream().filter(n -> n.matches("b[0-9]+")).count());
  }

  @Test
  void aLoopBodyWithEnoughComputeIsAnEngineOnTheCpuToo() {
    int rows = (int) Math.ceil(Math.sqrt(CpuCallCost.LARGE_FLOPS / 6));
    SegmentPlan big = plan(loop(2, rows), true);
    assertEquals(List.of(List.of("mm", "b0", "b1"), List.of("a0", "a1", "a2")), members(big), "3 ops, but a large matmul");
    SegmentPlan small = plan(loop(2, rows / 2), true);
    assertEquals(List.of(List.of("a0", "a1", "a2")), members(small));
    assertTrue(small.rejected().get("mm").startsWith(Segmenter.IN_LOOP_TOO_SMALL), small.rejected().get("mm"));
  }

  @Test
  void framesFollowEnterAndExit() {
    LoopFrames f = new LoopFrames(TfGraph.of(loop(2)));
    for (String n : List.of("enter", "merge", "switch", "body", "b0", "b1", "next", "limit", "i_add")) {
      assertTrue(f.inLoop(n), n + " runs in the loop");
    }
    for (String n : List.of("x", "i0", "exit", "a0", "a2")) assertTrue(!f.inLoop(n), n + " runs outside the loop");
  }
}
