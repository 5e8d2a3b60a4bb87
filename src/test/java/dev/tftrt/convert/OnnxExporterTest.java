package dev.tftrt.convert;

import dev.tftrt.convert.ops.StandardConverters;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.TensorShapeProto;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;

class OnnxExporterTest {
  private static final DataType F32 = DataType.DT_FLOAT;
  private final Rand rand = new Rand(7);

  private static TfBuilder chain() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 4);
    Output<?> y = b.op("Relu").name("relu").in(x).attr("T", F32).out();
    Output<?> z = b.op("Tanh").name("tanh").in(y).attr("T", F32).out();
    b.op("Exp").name("exp").in(z).attr("T", F32).build();
    return b;
  }

  @Test
  void modelHasOpsetIrVersionAndSymbolicBatch() {
    TfBuilder b = chain();
    ModelProto m = new OnnxExporter(StandardConverters.registry()).export(b.graphDef(), List.of("x"), List.of("exp"));
    assertEquals(17, m.getOpsetImport(0).getVersion());
    assertEquals(8, m.getIrVersion());
    assertEquals("x:0", m.getGraph().getInput(0).getName());
    assertEquals("exp:0", m.getGraph().getOutput(0).getName());
    TensorShapeProto.Dimension batch = m.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0);
    assertEquals("x_d0", batch.getDimParam());
    assertEquals(3, m.getGraph().getNodeCount());
    assertEquals(15, new OnnxExporter(StandardConverters.registry()).opset(15).export(b.graphDef(), List.of("x"), List.of("exp"))
        .getOpsetImport(0).getVersion());
  }

  @Test
  void cutsAtInnerTensors() {
    TfBuilder b = chain();
    OnnxCheck c = OnnxCheck.of(b).feed("relu", rand.floats(3, 4)).outputs("tanh").run();
    assertEquals(1, c.model().getGraph().getNodeCount());
    assertEquals("Tanh", c.model().getGraph().getNode(0).getOpType());
  }

  @Test
  void fixedInputShapeFeedsShapeInference() {
    TfBuilder b = chain();
    ModelProto m = new OnnxExporter(StandardConverters.registry()).inputShape("x", 2, 4).export(b.graphDef(), List.of("x"), List.of("exp"));
    assertEquals(2, m.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0).getDimValue());
    assertEquals(2, m.getGraph().getOutput(0).getType().getTensorType().getShape().getDim(0).getDimValue());
  }

  @Test
  void listsEveryUnsupportedNode() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 4);
    Output<?> u = b.op("Unique").name("uniq").in(b.placeholder("v", F32, 5)).attr("T", F32).out();
    Output<?> s = b.op("Transpose").name("transpose").in(x, b.placeholder("perm", DataType.DT_INT32, 2)).attr("T", F32).out();
    b.op("AddV2").name("out").in(s, u).attr("T", F32).build();
    UnsupportedNodesException e = assertThrows(UnsupportedNodesException.class,
        () -> new OnnxExporter(StandardConverters.registry()).export(b.graphDef(), List.of("x", "perm"), List.of("out")));
    assertEquals(3, e.nodes().size(), e.getMessage());
    assertEquals("3 nodes do not convert to ONNX: v (Placeholder): it is a graph input that is not "
        + "among the given inputs; uniq (Unique): no converter handles op Unique; transpose (Transpose): "
        + "its input 'perm' must be a constant, and perm:0 is computed.", e.getMessage().replace("\n", " "));
  }

  @Test
  void badTensorNamesAreClearErrors() {
    TfBuilder b = chain();
    TftrtException e = assertThrows(TftrtException.class,
        () -> new OnnxExporter(StandardConverters.registry()).export(b.graphDef(), List.of("x"), List.of("nothere")));
    assertEquals("the output tensor nothere names no node of the graph.", e.getMessage());
    e = assertThrows(TftrtException.class,
        () -> new OnnxExporter(StandardConverters.registry()).export(b.graphDef(), List.of("x:3"), List.of("exp")));
    assertEquals("the input tensor x:3 does not exist: node x has no output 3.", e.getMessage());
    e = assertThrows(TftrtException.class, () -> new OnnxExporter(StandardConverters.registry()).opset(11));
    assertEquals("ONNX opset 11 is too old; use 13 or later.", e.getMessage());
  }

  @Test
  void outputThatIsAnInputOrAliasGetsIdentity() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, 3);
    b.op("Identity").name("id").in(x).attr("T", F32).build();
    OnnxCheck c = OnnxCheck.of(b).feed("x", rand.floats(3)).outputs("id").run();
    assertEquals(1, c.count("Identity"));
  }

  @Test
  void transposePairsBetweenConvolutionsCancel() {
    TfBuilder b = new TfBuilder();
    Output<?> y = b.placeholder("x", F32, -1, 6, 6, 2);
    for (int i = 0; i < 3; i++) {
      y = b.op("Conv2D").in(y, b.constant(rand.floats(3, 3, 2, 2))).attr("T", F32)
          .attr("strides", new long[] {1, 1, 1, 1}).attr("padding", "SAME").out();
    }
    b.op("Identity").name("out").in(y).attr("T", F32).build();
    OnnxCheck c = OnnxCheck.of(b).feed("x", rand.floats(1, 6, 6, 2)).outputs("out").tol(1e-4, 1e-4).run();
    assertEquals(2, c.count("Transpose"));
    OnnxCheck raw = OnnxCheck.of(b).exporter(new OnnxExporter(StandardConverters.registry()).passes(List.of()))
        .feed("x", rand.floats(1, 6, 6, 2)).outputs("out").tol(1e-4, 1e-4).run();
    assertEquals(6, raw.count("Transpose"));
  }

  @Test
  void everyRegisteredOpHasSignature() {
    ConverterRegistry r = StandardConverters.registry();
    for (String op : r.opTypes()) {
      assertTrue(r.converter(op).orElseThrow().opTypes().contains(op));
      r.converter(op).orElseThrow().signature(op);
    }
  }
}
