package dev.tftrt.optimize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.runtime.Comparison;
import dev.tftrt.tensor.HostTensor;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/** Running GraphDefs and comparing their outputs, for the optimizer tests. */
final class Graphs {
  private Graphs() {}

  /** Runs a GraphDef in a fresh session: feeds by tensor name, results by fetch name. */
  static Map<String, HostTensor> run(GraphDef g, Map<String, HostTensor> feeds, List<String> fetches) {
    return dev.tftrt.testing.TfGraphs.runGraph(g, feeds, fetches);
  }

  /** Both graphs give the same outputs on these feeds, within |a-b| <= atol + rtol*|b|. */
  static void assertSameOutputs(GraphDef reference, GraphDef optimized, Map<String, HostTensor> feeds,
      List<String> fetches, double rtol, double atol) {
    Map<String, HostTensor> a = run(reference, feeds, fetches);
    Map<String, HostTensor> b = run(optimized, feeds, fetches);
    for (String f : fetches) {
      Comparison.Diff d = Comparison.diff(f, b.get(f), a.get(f), rtol, atol);
      assertTrue(d.withinTolerance(), f + ": " + d);
    }
  }

  static void assertIdenticalOutputs(GraphDef reference, GraphDef optimized, Map<String, HostTensor> feeds,
      List<String> fetches) {
    Map<String, HostTensor> a = run(reference, feeds, fetches);
    Map<String, HostTensor> b = run(optimized, feeds, fetches);
    for (String f : fetches) {
      assertArrayEquals(a.get(f).shape(), b.get(f).shape(), f);
      assertTrue(a.get(f).contentEquals(b.get(f)), f + " differs");
    }
  }

  static long count(GraphDef g, String op) {
    return g.getNodeList().stream().filter(n -> n.getOp().equals(op)).count();
  }

  static long countPrefix(GraphDef g, String opPrefix) {
    return g.getNodeList().stream().filter(n -> n.getOp().startsWith(opPrefix)).count();
  }

  static NodeDef node(GraphDef g, String name) {
    return g.getNodeList().stream().filter(n -> n.getName().equals(name)).findFirst().orElse(null);
  }

  static boolean has(GraphDef g, String name) {
    return node(g, name) != null;
  }

  static void assertNoNode(GraphDef g, String name) {
    assertEquals(null, node(g, name), "node '" + name + "' should be gone");
  }

  /** Seeded floats uniform in [-1, 1). */
  static HostTensor randomFloats(long seed, long... shape) {
    Random rnd = new Random(seed);
    float[] v = new float[(int) HostTensor.numElements(shape)];
    for (int i = 0; i < v.length; i++) v[i] = rnd.nextFloat() * 2 - 1;
    return HostTensor.ofFloats(shape, v);
  }

  static float[] randomArray(Random rnd, int n, float lo, float hi) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = lo + rnd.nextFloat() * (hi - lo);
    return v;
  }
}
