package dev.tftrt.splice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.segment.Segment;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/** Splicing at the GraphDef level: what is replaced, what is rewired, what is left alone. */
class SplicerTest {
  private static NodeDef node(String name, String op, String... inputs) {
    return NodeDef.newBuilder().setName(name).setOp(op).addAllInput(List.of(inputs))
        .putAttr("T", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build()).build();
  }

  private static Map<String, NodeDef> byName(GraphDef g) {
    return g.getNodeList().stream().collect(Collectors.toMap(NodeDef::getName, n -> n));
  }

  /**
   * x → a → b → c, with k (Const) read by a and by d outside; a has a control input from p;
   * c is read by e, and q waits on b by a control edge. Segment {k, a, b} becomes "engine".
   */
  private static GraphDef graph() {
    return GraphDef.newBuilder()
        .addNode(node("x", "Placeholder"))
        .addNode(node("p", "NoOp"))
        .addNode(node("k", "Const"))
        .addNode(node("a", "Mul", "x", "k", "^p"))
        .addNode(node("b", "Relu", "a"))
        .addNode(node("c", "Neg", "b"))
        .addNode(node("d", "Add", "k", "x"))
        .addNode(node("e", "Exp", "c"))
        .addNode(node("q", "NoOp", "^b"))
        .build();
  }

  private static Splicer.Result splice() {
    Segment s = new Segment(0, List.of("k", "a", "b"), List.of("x:0"), List.of("b:0"), 2);
    NodeDef engine = NodeDef.newBuilder().setName("engine").setOp("TftrtEngine").addInput("x").build();
    return Splicer.splice(graph(), List.of(new Splicer.Replacement(s, engine)));
  }

  @Test
  void segmentNodesAreReplacedByTheEngine() {
    Map<String, NodeDef> g = byName(splice().graph());
    assertFalse(g.containsKey("a"));
    assertFalse(g.containsKey("b"));
    assertTrue(g.containsKey("engine"));
    assertEquals(List.of("x", "^p"), g.get("engine").getInputList(), "control inputs of segment nodes move to the engine");
  }

  @Test
  void consumersReadTheEngineAndControlEdgesWaitOnIt() {
    Splicer.Result r = splice();
    Map<String, NodeDef> g = byName(r.graph());
    assertEquals(List.of("engine"), g.get("c").getInputList());
    assertEquals(List.of("^engine"), g.get("q").getInputList());
    assertEquals("engine:0", r.resolve("b:0"));
    assertEquals("x:0", r.resolve("x"));
  }

  @Test
  void aConstantReadOutsideTheSegmentIsKeptAndEverythingElseIsUntouched() {
    GraphDef before = graph();
    Map<String, NodeDef> g = byName(splice().graph());
    assertTrue(g.containsKey("k"), "k is copied into the engine, and still read by d");
    Map<String, NodeDef> old = byName(before);
    for (String n : List.of("x", "p", "k", "d", "e")) assertEquals(old.get(n), g.get(n), n + " changed");
  }

  @Test
  void segmentGraphFeedsPlaceholdersAndNamesItsOutputs() {
    Segment s = new Segment(0, List.of("k", "a", "b"), List.of("x:0"), List.of("b:0"), 2);
    GraphDef sg = Splicer.segmentGraph(graph(), s, List.of(DataType.DT_FLOAT), List.of(DataType.DT_FLOAT));
    Map<String, NodeDef> g = byName(sg);
    assertEquals("Placeholder", g.get("tftrt_input_0").getOp());
    assertEquals(List.of("tftrt_input_0", "k"), g.get("a").getInputList(), "the outside control edge is dropped");
    assertEquals(List.of("b"), g.get("tftrt_output_0").getInputList());
    assertEquals(5, sg.getNodeCount());
  }

  @Test
  void engineOutputsOfKnownRankAreReadThroughEnsureShapeSoTensorFlowKnowsTheirShapes() {
    Segment s = new Segment(0, List.of("k", "a", "b"), List.of("x:0"), List.of("b:0"), 2);
    NodeDef engine = dev.tftrt.runtime.engine.EngineNode.builder("engine").input("x", DataType.DT_FLOAT)
        .output(DataType.DT_FLOAT, -1, 3).build().toNodeDef();
    GraphDef g = GraphDef.newBuilder()
        .addNode(NodeDef.newBuilder().setName("x").setOp("Placeholder")
            .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build())
            .putAttr("shape", AttrValue.newBuilder().setShape(org.tensorflow.proto.TensorShapeProto.newBuilder()
                .addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(-1))
                .addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(3))).build()))
        .addNode(node("k", "Const")).addNode(node("a", "Mul", "x", "k")).addNode(node("b", "Relu", "a"))
        .addNode(node("c", "Neg", "b"))
        .build();
    Splicer.Result r = Splicer.splice(g, List.of(new Splicer.Replacement(s, engine)));
    Map<String, NodeDef> nodes = byName(r.graph());
    assertEquals("EnsureShape", nodes.get("engine/shape_0").getOp());
    assertEquals(List.of("engine"), nodes.get("engine/shape_0").getInputList());
    assertEquals(List.of("engine/shape_0"), nodes.get("c").getInputList());
    assertEquals("engine/shape_0:0", r.resolve("b:0"));
    // TensorFlow's shape inference: unknown from the engine op itself, [?, 3] after the assertion.
    dev.tftrt.runtime.engine.EngineOp.load();
    try (org.tensorflow.Graph tf = dev.tftrt.testing.TfGraphs.importGraph(r.graph())) {
      assertTrue(tf.operation("engine").output(0).shape().isUnknown());
      assertEquals(List.of(-1L, 3L), java.util.Arrays.stream(tf.operation("c").output(0).shape().asArray())
          .boxed().toList());
    }
  }
}
