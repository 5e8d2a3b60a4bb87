package dev.tftrt.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.pipeline.Plan;
import dev.tftrt.segment.Segment;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.Loads;
import dev.tftrt.testing.TestModels;
import dev.tftrt.testing.TfGraphs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Issue 8, class 3: SavedModels are usually written with default-valued attributes stripped
 * (MaxPool without T, Shape without out_type, ArgMax without output_type, FusedBatchNorm without
 * is_training). Graphs are completed from TensorFlow's OpDefs where they are read, so converters
 * see what TensorFlow runs instead of rejecting the node.
 */
class OpDefDefaultsTest {
  @TempDir Path tmp;

  private static AttrValue type(DataType t) {
    return AttrValue.newBuilder().setType(t).build();
  }

  private static AttrValue ints(long... v) {
    AttrValue.ListValue.Builder l = AttrValue.ListValue.newBuilder();
    for (long x : v) l.addI(x);
    return AttrValue.newBuilder().setList(l).build();
  }

  private static AttrValue str(String s) {
    return AttrValue.newBuilder().setS(com.google.protobuf.ByteString.copyFromUtf8(s)).build();
  }

  private static HostTensor random(Random rnd, long... shape) {
    float[] v = new float[(int) HostTensor.numElements(shape)];
    for (int i = 0; i < v.length; i++) v[i] = rnd.nextFloat() - 0.5f;
    return HostTensor.ofFloats(shape, v);
  }

  /**
   * x[?,8,8,4] → Conv2D → MaxPool (no T, no data_format) → Relu → Reshape to its own Shape (Shape
   * without out_type, Reshape without Tshape) → ArgMax over channels (no output_type, no Tidx);
   * beside it, FusedBatchNorm of x without is_training, epsilon or data_format.
   */
  static GraphDef strippedGraph() {
    Random rnd = new Random(3);
    return TfGraphs.graph(List.of(
        TfGraphs.placeholder("x", DataType.DT_FLOAT, -1, 8, 8, 4),
        TfGraphs.constant("w", random(rnd, 3, 3, 4, 4)),
        TfGraphs.op("Conv2D", "conv", "x", "w").toBuilder().putAttr("strides", ints(1, 1, 1, 1))
            .putAttr("padding", str("SAME")).build(),
        NodeDef.newBuilder().setName("pool").setOp("MaxPool").addInput("conv")
            .putAttr("ksize", ints(1, 2, 2, 1)).putAttr("strides", ints(1, 2, 2, 1))
            .putAttr("padding", str("VALID")).build(),
        TfGraphs.op("Relu", "relu", "pool"),
        TfGraphs.op("Shape", "shape", "relu"),
        TfGraphs.op("Reshape", "reshape", "relu", "shape"),
        TfGraphs.constant("axis", HostTensor.ofInts(new long[0], 3)),
        TfGraphs.op("ArgMax", "argmax", "reshape", "axis"),
        TfGraphs.constant("scale", random(rnd, 4)),
        TfGraphs.constant("offset", random(rnd, 4)),
        TfGraphs.constant("mean", random(rnd, 4)),
        TfGraphs.constant("variance", HostTensor.ofFloats(new long[] {4}, 1f, 2f, 0.5f, 1.5f)),
        TfGraphs.op("FusedBatchNorm", "bn", "x", "scale", "offset", "mean", "variance")));
  }

  @Test
  void theGraphReallyLacksTheAttributes() {
    GraphDef g = strippedGraph();
    assertFalse(TestModels.node(g, "pool").containsAttr("T"));
    assertFalse(TestModels.node(g, "shape").containsAttr("out_type"));
    assertFalse(TestModels.node(g, "argmax").containsAttr("output_type"));
    assertFalse(TestModels.node(g, "bn").containsAttr("is_training"));
  }

  @Test
  void readingAddsEveryOpDefDefault() {
    GraphDef g = Normalizer.normalize(strippedGraph());
    assertEquals(DataType.DT_FLOAT, TestModels.node(g, "pool").getAttrOrThrow("T").getType());
    assertEquals("NHWC", TestModels.node(g, "pool").getAttrOrThrow("data_format").getS().toStringUtf8());
    assertEquals(DataType.DT_INT32, TestModels.node(g, "shape").getAttrOrThrow("out_type").getType());
    assertEquals(DataType.DT_INT32, TestModels.node(g, "reshape").getAttrOrThrow("Tshape").getType());
    assertEquals(DataType.DT_INT64, TestModels.node(g, "argmax").getAttrOrThrow("output_type").getType());
    assertEquals(DataType.DT_INT32, TestModels.node(g, "argmax").getAttrOrThrow("Tidx").getType());
    // TensorFlow's default: batch statistics (h6's training-mode converter takes it from here).
    assertTrue(TestModels.node(g, "bn").getAttrOrThrow("is_training").getB());
    assertEquals(1e-4f, TestModels.node(g, "bn").getAttrOrThrow("epsilon").getF());
    // What was given is kept.
    assertEquals(TfGraphs.op("Relu", "relu", "pool"), TestModels.node(g, "relu"));
  }

  @Test
  void strippedNodesConvertInsideOneEngine() throws IOException {
    Path pb = tmp.resolve("stripped.pb");
    Files.write(pb, strippedGraph().toByteArray());
    ConvertJob.Report r = ConvertJob.run(ConvertJob.builder(Loads.of(pb).outputs("argmax", "bn").build(), tmp.resolve("out")).shapes(Map.of("x", new long[] {2, 8, 8, 4}))
        // segmented as for TensorRT: on the CPU these 4 ops on fixed shapes would not pay for a call
        .segments(dev.tftrt.segment.Segmenter.Options.defaults().withTarget(dev.tftrt.segment.Segmenter.Target.GPU)).build());
    assertTrue(r.verification().passed());
    Plan plan = r.plan();
    Set<String> inEngines = new HashSet<>();
    for (Segment s : plan.segments().segments()) inEngines.addAll(s.nodes());
    for (String n : List.of("conv", "pool", "relu", "argmax")) {
      assertTrue(inEngines.contains(n), n + " is left in TensorFlow: " + plan.segments().rejected());
    }
    assertEquals(1, plan.segments().segments().stream().filter(s -> s.nodes().contains("pool")).count());
    assertTrue(TestModels.node(plan.frozen().graph(), "bn").getAttrOrThrow("is_training").getB());
  }

  /** Nodes (top level and in function bodies) lacking an attribute their OpDef has a default for. */
  static int lackingDefaults(GraphDef g) {
    List<NodeDef> all = new java.util.ArrayList<>(g.getNodeList());
    for (var f : g.getLibrary().getFunctionList()) all.addAll(f.getNodeDefList());
    int lacking = 0;
    for (NodeDef n : all) {
      var def = OpDefs.get(n.getOp());
      if (def == null) continue;
      for (var a : def.getAttrList()) {
        if (a.hasDefaultValue() && !n.containsAttr(a.getName())) {
          lacking++;
          break;
        }
      }
    }
    return lacking;
  }

  /** Keras' own SavedModel (a TF 2 export) strips defaults; its nodes are read complete. */
  @Test
  void realKerasSavedModelIsReadComplete() throws IOException {
    Path dir = TestModels.shared("openmv-mobilenet-keras");
    GraphDef raw = TfModel.readSavedModel(dir).getMetaGraphs(0).getGraphDef();
    assertTrue(lackingDefaults(raw) > 0, "the published model has nodes with defaults stripped");
    try (TfModel m = TfModel.load(LoadOptions.of(dir))) {
      assertEquals(0, lackingDefaults(m.graphDef()));
    }
  }
}
