package dev.tftrt.segment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.TfGraph;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;

/**
 * The segmenter on hand-built graphs. Candidates here are decided by a simple rule (ops in a
 * set), so the tests are about clustering, not about which ops convert.
 */
class SegmenterTest {
  private static final Set<String> OK = Set.of("Neg", "Abs", "Add", "AddV2", "Relu", "Tanh", "Exp", "Mul", "Sigmoid");

  private static final Function<NodeView, Optional<String>> RULE = n ->
      OK.contains(n.op()) ? Optional.empty() : Optional.of("op " + n.op() + " is not in the test set.");

  private static GraphDef build(Consumer<Ops> body) {
    try (Graph g = new Graph()) {
      body.accept(Ops.create(g));
      return g.toGraphDef();
    }
  }

  private static SegmentPlan plan(GraphDef g, Segmenter.Options o, String... outputs) {
    return new Segmenter(RULE, o).segment(TfGraph.of(g), Set.of("x"), Set.of(outputs));
  }

  private static Segmenter.Options minSize(int n) {
    return new Segmenter.Options(n, Integer.MAX_VALUE, Set.of(), Set.of());
  }

  private static Placeholder<TFloat32> x(Ops tf) {
    return tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
  }

  @Test
  void chainOfCandidatesIsOneSegmentWithItsBoundary() {
    GraphDef g = build(tf -> {
      var a = tf.withName("a").math.neg(x(tf));
      var b = tf.withName("b").math.abs(a);
      tf.withName("c").math.exp(b);
    });
    SegmentPlan p = plan(g, minSize(1), "c");
    assertEquals(1, p.segments().size());
    Segment s = p.segments().get(0);
    assertEquals(List.of("a", "b", "c"), s.nodes());
    assertEquals(List.of("x:0"), s.inputs());
    assertEquals(List.of("c:0"), s.outputs());
  }

  @Test
  void doesNotMergeAcrossAPathThroughANonCandidate() {
    // a -> sin (not a candidate) -> c, and a -> c directly: merging a and c would put sin both
    // after and before the engine.
    GraphDef g = build(tf -> {
      var a = tf.withName("a").math.neg(x(tf));
      var n = tf.withName("n").math.sin(a);
      tf.withName("c").math.add(a, n);
    });
    SegmentPlan p = plan(g, minSize(1), "c");
    assertEquals(2, p.segments().size());
    for (Segment s : p.segments()) {
      assertFalse(s.nodes().containsAll(List.of("a", "c")), "a and c must not share a segment");
    }
    assertTrue(p.rejected().get("n").contains("not in the test set"));
  }

  @Test
  void longerDetourStillPreventsTheCycle() {
    // a -> b (cand) -> s (non-cand) -> d (cand); a -> d. Merging a,b first is fine; then d can
    // join neither, since {a,b} reaches d through s.
    GraphDef g = build(tf -> {
      var a = tf.withName("a").math.neg(x(tf));
      var b = tf.withName("b").math.abs(a);
      var s = tf.withName("s").math.sin(b);
      tf.withName("d").math.mul(a, s);
    });
    SegmentPlan p = plan(g, minSize(1), "d");
    Segment first = p.segments().get(0);
    assertEquals(List.of("a", "b"), first.nodes());
    assertEquals(List.of("a:0", "b:0"), first.outputs());
    assertEquals(List.of("d"), p.segments().get(1).nodes());
  }

  @Test
  void independentBranchesMergeThroughTheirCommonConsumer() {
    GraphDef g = build(tf -> {
      var in = x(tf);
      var a = tf.withName("a").math.neg(in);
      var b = tf.withName("b").math.abs(in);
      tf.withName("c").math.add(a, b);
    });
    SegmentPlan p = plan(g, minSize(1), "c");
    assertEquals(1, p.segments().size());
    assertEquals(Set.of("a", "b", "c"), new HashSet<>(p.segments().get(0).nodes()));
    assertEquals(List.of("x:0"), p.segments().get(0).inputs());
  }

  @Test
  void minimumSizeDropsSmallClustersAndCountsNoIdentities() {
    GraphDef g = build(tf -> {
      var a = tf.withName("a").math.neg(x(tf));
      var i = tf.withName("i").identity(a); // not a candidate under RULE anyway
      var b = tf.withName("b").math.abs(i);
      var c = tf.withName("c").math.exp(b);
      tf.withName("d").math.tanh(c);
    });
    SegmentPlan p = plan(g, minSize(3), "d");
    assertEquals(1, p.segments().size());
    assertEquals(List.of("b", "c", "d"), p.segments().get(0).nodes());
    assertEquals(List.of(List.of("a")), p.droppedClusters());
  }

  @Test
  void maxEnginesKeepsTheLargest() {
    GraphDef g = build(tf -> {
      var a = tf.withName("a").math.neg(x(tf));
      var s1 = tf.withName("s1").math.sin(a);
      var b = tf.withName("b").math.abs(s1);
      var c = tf.withName("c").math.exp(b);
      var s2 = tf.withName("s2").math.sin(c);
      var d = tf.withName("d").math.tanh(s2);
      var e = tf.withName("e").math.neg(d);
      tf.withName("f").math.abs(e);
    });
    SegmentPlan all = plan(g, minSize(1), "f");
    assertEquals(3, all.segments().size());
    SegmentPlan one = plan(g, new Segmenter.Options(1, 1, Set.of(), Set.of()), "f");
    assertEquals(1, one.segments().size());
    assertEquals(List.of("d", "e", "f"), one.segments().get(0).nodes());
  }

  @Test
  void exclusionsByOpAndByNode() {
    GraphDef g = build(tf -> {
      var a = tf.withName("a").math.neg(x(tf));
      var b = tf.withName("b").math.abs(a);
      var c = tf.withName("c").math.exp(b);
      tf.withName("d").math.tanh(c);
    });
    SegmentPlan p = new Segmenter(RULE, new Segmenter.Options(1, 9, Set.of("Exp"), Set.of("a")))
        .segment(TfGraph.of(g), Set.of("x"), Set.of("d"));
    assertEquals("it was excluded with --exclude-nodes.", p.rejected().get("a"));
    assertEquals("its op Exp was excluded with --exclude-ops.", p.rejected().get("c"));
    assertEquals(List.of(List.of("b"), List.of("d")), p.segments().stream().map(Segment::nodes).toList());
  }

  @Test
  void constantsAreCopiedIntoEachSegmentThatReadsThem() {
    GraphDef g = build(tf -> {
      var k = tf.withName("k").constant(new float[] {1, 2, 3, 4});
      var a = tf.withName("a").math.mul(x(tf), k);
      var s = tf.withName("s").math.sin(a);
      tf.withName("b").math.mul(s, k);
    });
    SegmentPlan p = plan(g, minSize(1), "b");
    assertEquals(List.of("k", "a"), p.segments().get(0).nodes());
    assertEquals(List.of("k", "b"), p.segments().get(1).nodes());
    assertEquals(List.of("s:0"), p.segments().get(1).inputs());
  }

  @Test
  void deterministicAcrossRuns() {
    GraphDef g = build(tf -> {
      var in = x(tf);
      Operand<TFloat32> prev = tf.withName("n0").math.neg(in);
      for (int i = 1; i < 40; i++) {
        Operand<TFloat32> branch = (i % 3 == 0) ? tf.withName("s" + i).math.sin(prev) : tf.withName("n" + i).math.neg(prev);
        prev = tf.withName("m" + i).math.mul(branch, prev);
      }
    });
    SegmentPlan first = plan(g, minSize(1), "m39");
    for (int run = 0; run < 5; run++) {
      assertEquals(first.segments(), plan(g, minSize(1), "m39").segments());
    }
  }
}
