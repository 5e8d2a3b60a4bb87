package dev.tftrt.optimize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.TensorProtos;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/** Asserts proven true go; unproven or false ones stay; and folding then reaches what they held. */
class ProvenAssertPassTest {
  private static NodeDef boolConst(String name, boolean... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length);
    for (boolean x : v) b.put((byte) (x ? 1 : 0));
    b.flip();
    return NodeDef.newBuilder().setName(name).setOp("Const")
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_BOOL).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(TensorProtos.fromHost(
            HostTensor.of(DataType.DT_BOOL, new long[] {v.length}, b))).build()).build();
  }

  private static NodeDef floatConst(String name, float v) {
    return NodeDef.newBuilder().setName(name).setOp("Const")
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(TensorProtos.fromHost(
            HostTensor.ofFloats(new long[0], v))).build()).build();
  }

  private static NodeDef assertNode(String name, String cond) {
    return NodeDef.newBuilder().setName(name).setOp("Assert").addInput(cond).addInput("msg")
        .putAttr("T", AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder().addType(DataType.DT_FLOAT)).build())
        .build();
  }

  private static GraphDef graph(boolean... cond) {
    return GraphDef.newBuilder()
        .addNode(boolConst("cond", cond))
        .addNode(floatConst("msg", 0f))
        .addNode(assertNode("check", "cond"))
        .addNode(floatConst("one", 1f))
        .addNode(floatConst("two", 2f))
        .addNode(NodeDef.newBuilder().setName("sum").setOp("AddV2").addInput("one").addInput("two").addInput("^check")
            .putAttr("T", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build()))
        .build();
  }

  private static Set<String> names(GraphDef g) {
    return g.getNodeList().stream().map(NodeDef::getName).collect(Collectors.toSet());
  }

  @Test
  void anAssertProvenTrueIsRemovedWithTheControlEdgesOnIt() {
    PassContext ctx = PassContext.of(List.of(), List.of("sum"));
    GraphDef g = new ProvenAssertPass().apply(graph(true, true), ctx);
    assertFalse(names(g).contains("check"));
    assertEquals(List.of("one", "two"), g.getNodeList().stream().filter(n -> n.getName().equals("sum"))
        .findFirst().orElseThrow().getInputList());
    assertEquals(1, ctx.count(ProvenAssertPass.NAME, "removed"));
  }

  @Test
  void anAssertThatCanFailStays() {
    GraphDef g = graph(true, false);
    assertEquals(g, new ProvenAssertPass().apply(g, PassContext.of(List.of(), List.of("sum"))));
  }

  @Test
  void foldingUntilStableThenFoldsWhatTheAssertHeldBack() {
    PassContext ctx = PassContext.of(List.of(), List.of("sum"));
    GraphDef once = new ConstantFoldingPass().apply(graph(true), ctx);
    assertTrue(names(once).contains("check"), "one round of folding alone cannot touch the guarded sum");
    GraphDef stable = new UntilStablePass(8, new ConstantFoldingPass(), new ProvenAssertPass())
        .apply(graph(true), PassContext.of(List.of(), List.of("sum")));
    assertFalse(names(stable).contains("check"));
    NodeDef sum = stable.getNodeList().stream().filter(n -> n.getName().equals("sum")).findFirst().orElseThrow();
    assertEquals("Const", sum.getOp(), "the sum folded once nothing guarded it");
    assertEquals(3f, (float) TensorProtos.toHost(sum.getAttrOrThrow("value").getTensor()).getDouble(0), 0f);
  }
}
