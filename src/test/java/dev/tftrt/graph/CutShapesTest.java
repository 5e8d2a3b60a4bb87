package dev.tftrt.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * A graph cut at an inner tensor (export-onnx --inputs) is inferred from the cut's shape. The
 * cut's Placeholder used to be named "_tftrt_cut_0", a name TensorFlow refuses, so every cut
 * silently fell back to the whole graph's shapes.
 */
class CutShapesTest {
  @Test
  void whatFollowsACutIsInferredFromItsShape() {
    AttrValue f32 = AttrValue.newBuilder().setType(DataType.DT_FLOAT).build();
    GraphDef g = GraphDef.newBuilder()
        .addNode(NodeDef.newBuilder().setName("x").setOp("Placeholder").putAttr("dtype", f32)
            .putAttr("shape", AttrValue.newBuilder().setShape(dev.tftrt.tensor.TensorProtos.shape(new long[] {-1, 4})).build()))
        .addNode(NodeDef.newBuilder().setName("a").setOp("Neg").addInput("x").putAttr("T", f32))
        .addNode(NodeDef.newBuilder().setName("out").setOp("Abs").addInput("a").putAttr("T", f32))
        .build();
    TensorInfoTable t = TensorInfoTable.ofCut(g, Map.of(), Map.of("a:0", new long[] {2, 4}));
    assertArrayEquals(new long[] {2, 4}, t.get("out").dims());
    assertArrayEquals(new long[] {2, 4}, t.get("a").dims());
    assertArrayEquals(new long[] {-1, 4}, t.get("x").dims());
  }
}
