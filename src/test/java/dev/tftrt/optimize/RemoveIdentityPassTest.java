package dev.tftrt.optimize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.tensor.HostTensor;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;

class RemoveIdentityPassTest {
  private static final Map<String, HostTensor> FEED = Map.of("x", Graphs.randomFloats(1, 2, 3));

  /** x → Identity → StopGradient → Snapshot → Relu, IdentityN(relu, x) → Add → out (Identity). */
  private static GraphDef chain() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(2, 3)));
      var i1 = tf.withName("i1").identity(x);
      var sg = tf.withName("sg").stopGradient(i1);
      var sn = tf.withName("sn").snapshot(sg);
      var r = tf.withName("r").nn.relu(sn);
      var idn = tf.withName("idn").identityN(List.of(r, x));
      @SuppressWarnings("unchecked")
      Operand<TFloat32> a = (Operand<TFloat32>) idn.output().get(0);
      @SuppressWarnings("unchecked")
      Operand<TFloat32> b = (Operand<TFloat32>) idn.output().get(1);
      var add = tf.withName("add").math.add(a, b);
      tf.withName("out").identity(add);
      return g.toGraphDef();
    }
  }

  @Test
  void removesForwardingOpsAndKeepsOutputs() {
    GraphDef g = chain();
    PassContext ctx = PassContext.of(List.of("x"), List.of("out"));
    GraphDef opt = new RemoveIdentityPass().apply(g, ctx);
    for (String gone : List.of("i1", "sg", "sn", "idn")) Graphs.assertNoNode(opt, gone);
    assertEquals(1, Graphs.count(opt, "Identity"), "only the designated output Identity stays");
    assertTrue(Graphs.has(opt, "out"));
    assertEquals(List.of("x"), Graphs.node(opt, "r").getInputList());
    assertEquals(List.of("r", "x"), Graphs.node(opt, "add").getInputList());
    assertEquals(4, ctx.count(RemoveIdentityPass.NAME, "removed"));
    assertEquals(1, ctx.count(RemoveIdentityPass.NAME, "IdentityN"));
    assertEquals(1, ctx.count(RemoveIdentityPass.NAME, "kept_protected"));
    Graphs.assertIdenticalOutputs(g, opt, FEED, List.of("out"));
    assertEquals(chain(), g, "the input graph is not changed");
  }

  @Test
  void designatedInputIdentityIsKept() {
    GraphDef g = chain();
    GraphDef opt = new RemoveIdentityPass().apply(g, PassContext.of(List.of("i1:0"), List.of("out")));
    assertTrue(Graphs.has(opt, "i1"));
    assertEquals(List.of("i1"), Graphs.node(opt, "r").getInputList());
  }

  @Test
  void controlEdgesAreMovedNotLost() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(2, 3)));
      var k = tf.withName("k").math.square(x);
      var k2 = tf.withName("k2").math.exp(x);
      // Identity waiting on k; its reader must keep waiting on k.
      var id = tf.withName("ctl_id").withControlDependencies(List.of(k)).identity(x);
      var neg = tf.withName("neg").math.neg(id);
      // NoOp waiting on k2; whoever waits on the NoOp must wait on k2.
      var dep = tf.withName("dep").withControlDependencies(List.of(k2)).noOp();
      var c = tf.withName("c").withControlDependencies(List.of(dep)).math.add(neg, x);
      // A control edge from an Identity becomes one from its input's producer.
      var id2 = tf.withName("id2").identity(k2);
      tf.withName("out").withControlDependencies(List.of(id2)).math.mul(c, x);
      g = graph.toGraphDef();
    }
    PassContext ctx = PassContext.of(List.of("x"), List.of("out"));
    GraphDef opt = new RemoveIdentityPass().apply(g, ctx);
    Graphs.assertNoNode(opt, "ctl_id");
    Graphs.assertNoNode(opt, "dep");
    Graphs.assertNoNode(opt, "id2");
    assertEquals(List.of("x", "^k"), Graphs.node(opt, "neg").getInputList());
    assertEquals(List.of("neg", "x", "^k2"), Graphs.node(opt, "c").getInputList());
    assertEquals(List.of("c", "x", "^k2"), Graphs.node(opt, "out").getInputList());
    assertEquals(1, ctx.count(RemoveIdentityPass.NAME, "NoOp"));
    Graphs.assertIdenticalOutputs(g, opt, FEED, List.of("out"));
  }

  /** y = 2x after Assert(sum(x) > -100). */
  private static GraphDef asserted() {
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(2, 3)));
      Operand<TBool> cond = tf.withName("cond").math.greater(tf.withName("total").sum(x, tf.constant(new int[] {0, 1})),
          tf.constant(-100f));
      var check = tf.withName("check").assertThat(cond, List.of(x));
      var num = tf.withName("num").debugging.checkNumerics(x, "bad");
      tf.withName("y").withControlDependencies(List.of(check)).math.mul(num, tf.constant(2f));
      return graph.toGraphDef();
    }
  }

  @Test
  void assertionsStayUnlessAsked() {
    GraphDef g = asserted();
    GraphDef kept = new RemoveIdentityPass().apply(g, PassContext.of(List.of("x"), List.of("y")));
    assertTrue(Graphs.has(kept, "check"));
    assertTrue(Graphs.has(kept, "num"));

    PassContext ctx = PassContext.of(List.of("x"), List.of("y")).removeAssertions(true);
    GraphDef opt = new RemoveIdentityPass().apply(g, ctx);
    for (String gone : List.of("check", "num", "cond", "total")) Graphs.assertNoNode(opt, gone);
    NodeDef y = Graphs.node(opt, "y");
    assertFalse(y.getInputList().stream().anyMatch(s -> s.startsWith("^")), y.getInputList().toString());
    assertEquals(x0(y), "x");
    assertTrue(ctx.count(RemoveIdentityPass.NAME, "dead_removed") >= 2);
    Graphs.assertIdenticalOutputs(g, opt, FEED, List.of("y"));
  }

  private static String x0(NodeDef n) {
    return n.getInput(0);
  }

  @Test
  void identityAfterSwitchIsLeftAlone() {
    GraphDef g;
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      var x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(2, 3)));
      var p = tf.withName("p").placeholder(TBool.class, Placeholder.shape(Shape.scalar()));
      GraphOperation sw = graph.opBuilder("Switch", "sw", graph.baseScope())
          .addInput(x.asOutput()).addInput(p.asOutput()).build();
      @SuppressWarnings("unchecked")
      Operand<TFloat32> t = (Operand<TFloat32>) (Operand<?>) sw.output(1);
      var pivot = tf.withName("pivot").identity(t);
      tf.withName("branch").math.neg(pivot);
      g = graph.toGraphDef();
    }
    PassContext ctx = PassContext.of(Set.of("x", "p"), Set.of("branch"));
    GraphDef opt = new RemoveIdentityPass().apply(g, ctx);
    assertTrue(Graphs.has(opt, "pivot"));
    assertEquals(1, ctx.count(RemoveIdentityPass.NAME, "kept_control_flow"));
  }
}
