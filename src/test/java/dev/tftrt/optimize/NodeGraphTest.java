package dev.tftrt.optimize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.tftrt.TftrtException;
import dev.tftrt.tensor.HostTensor;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

class NodeGraphTest {
  private static NodeDef node(String name, String op, String... inputs) {
    return NodeDef.newBuilder().setName(name).setOp(op).addAllInput(List.of(inputs)).build();
  }

  private static GraphDef graph(NodeDef... nodes) {
    return GraphDef.newBuilder().addAllNode(List.of(nodes)).build();
  }

  @Test
  void topologicalOrderPutsProducersFirstAndIgnoresLoopBackEdges() {
    GraphDef g = graph(node("out", "Neg", "merge"), node("merge", "Merge", "enter", "next"),
        node("next", "NextIteration", "body"), node("body", "Neg", "merge", "^c"), node("enter", "Enter", "c"),
        node("c", "Const"));
    List<String> order = NodeGraph.of(g).topologicalOrder();
    assertEquals(6, order.size());
    for (NodeDef n : g.getNodeList()) {
      for (String in : n.getInputList()) {
        String src = dev.tftrt.model.TensorNames.node(in);
        if (src.equals("next")) continue;
        assertTrue(order.indexOf(src) < order.indexOf(n.getName()), src + " before " + n.getName() + " in " + order);
      }
    }
  }

  @Test
  void consumersRedirectAndControlEdges() {
    NodeGraph g = NodeGraph.of(graph(node("a", "Const"), node("s", "Split", "d", "a"), node("d", "Const"),
        node("u", "Neg", "s:1", "^a"), node("v", "Add", "s", "s:1")));
    assertEquals(Set.of("u", "v"), g.consumerNodes("s"));
    assertEquals(2, g.dataConsumersOf("s:1").size());
    assertEquals(List.of("u"), g.controlConsumers("a"));
    assertEquals(2, g.redirect("s:1", "a:0", Set.of()));
    assertEquals(List.of("a"), g.node("u").getInputList(), "a control edge implied by a data edge goes");
    assertEquals(List.of("s", "a"), g.node("v").getInputList());
    assertEquals(Set.of("v"), g.consumerNodes("s"));
    g.addControlInputs("v", List.of("d", "d", "v"));
    assertEquals(List.of("s", "a", "^d"), g.node("v").getInputList());
    g.replaceControlEdges("d", List.of("a"));
    assertEquals(List.of("s", "a"), g.node("v").getInputList());
    assertEquals("s_1", NodeGraph.of(graph(node("s", "NoOp"))).uniqueName("s"));
  }

  @Test
  void removeDeadKeepsStatefulProtectedAndPlaceholderNodes() {
    NodeGraph g = NodeGraph.of(graph(node("p", "Placeholder"), node("c", "Const"), node("sq", "Square", "p"),
        node("keep", "Neg", "c"), node("rnd", "RandomUniform", "c"), node("e", "Exp", "sq")));
    g.remove("e");
    int removed = g.removeDead(List.of("sq", "keep", "rnd"), Set.of("keep"));
    assertEquals(1, removed);
    assertFalse(g.contains("sq"));
    assertTrue(g.contains("p") && g.contains("keep") && g.contains("rnd") && g.contains("c"));
  }

  @Test
  void colocationWithRemovedNodesIsDropped() {
    AttrValue loc = AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder()
        .addS(ByteString.copyFromUtf8("loc:@w")).addS(ByteString.copyFromUtf8("loc:@k"))).build();
    NodeDef read = node("w/read", "Identity", "w").toBuilder().putAttr("_class", loc).build();
    NodeGraph g = NodeGraph.of(graph(NodeGraph.constNode("w", HostTensor.ofFloats(new long[] {1}, 2f)),
        NodeGraph.constNode("k", HostTensor.ofFloats(new long[] {1}, 3f)), read));
    g.remove("w");
    g.setDataInput("w/read", 0, "k");
    NodeDef out = g.toGraphDef().getNode(1);
    assertEquals(List.of(ByteString.copyFromUtf8("loc:@k")), out.getAttrOrThrow("_class").getList().getSList());
    assertEquals(3.0, g.constantValue("w/read").getDouble(0), "read through the Identity");
    assertNull(g.constantValue("w/read:1"));
  }

  @Test
  void optimizerRefusesUnknownInputsAndOutputs() {
    GraphDef g = graph(node("x", "Placeholder"), node("y", "Neg", "x"));
    Executable run = () -> Optimizer.defaultPipeline().run(g, PassContext.of(List.of("x"), List.of("z:0")));
    TftrtException e = org.junit.jupiter.api.Assertions.assertThrows(TftrtException.class, run);
    assertEquals("output node 'z' is not in the graph to optimize.", e.getMessage());
    e = org.junit.jupiter.api.Assertions.assertThrows(TftrtException.class,
        () -> Optimizer.defaultPipeline().run(g, PassContext.of(List.of("q"), List.of("y"))));
    assertEquals("input node 'q' is not in the graph to optimize.", e.getMessage());
  }

  @Test
  void optimizerReportsEachPassInOrder() {
    GraphDef g = graph(NodeGraph.constNode("c", HostTensor.ofFloats(new long[] {2}, 1f, 2f)),
        node("c/read", "Identity", "c").toBuilder().putAttr("T", AttrValue.newBuilder()
            .setType(org.tensorflow.proto.DataType.DT_FLOAT).build()).build(),
        node("x", "Placeholder").toBuilder().putAttr("dtype", AttrValue.newBuilder()
            .setType(org.tensorflow.proto.DataType.DT_FLOAT).build()).build(),
        node("twice", "AddV2", "c/read", "c/read").toBuilder().putAttr("T", AttrValue.newBuilder()
            .setType(org.tensorflow.proto.DataType.DT_FLOAT).build()).build(),
        node("y", "Mul", "x", "twice").toBuilder().putAttr("T", AttrValue.newBuilder()
            .setType(org.tensorflow.proto.DataType.DT_FLOAT).build()).build());
    PassContext ctx = PassContext.of(List.of("x"), List.of("y"));
    Optimizer.Result r = Optimizer.defaultPipeline().run(g, ctx);
    assertEquals(List.of(RemoveIdentityPass.NAME, ConstantFoldingPass.NAME, BatchNormFoldingPass.NAME),
        r.runs().stream().map(Optimizer.PassRun::name).toList());
    assertEquals(5, r.nodesBefore());
    assertEquals(3, r.nodesAfter(), r.summary());
    assertEquals(1L, r.run(RemoveIdentityPass.NAME).counts().get("removed"));
    assertEquals(1L, r.run(ConstantFoldingPass.NAME).counts().get("constants"));
    assertEquals(4.0, dev.tftrt.tensor.TensorProtos.toHost(
        Graphs.node(r.graph(), "twice").getAttrOrThrow("value").getTensor()).getDouble(1));
    assertEquals(5, g.getNodeCount(), "the input graph is untouched");
  }
}
