package dev.tftrt.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.tftrt.pipeline.FreezeJob;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.Loads;
import dev.tftrt.testing.TestModels;
import dev.tftrt.testing.TfGraphs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.FunctionDefLibrary;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;

/**
 * Issue 8, class 2: TF1 graphs carry colocation constraints ({@code _class: loc:@node}); once a
 * rewrite removes or renames the node named, TensorFlow refuses the graph ("expects to be
 * colocated with unknown node"). Every rewrite keeps them true: renamed with their node, or dropped.
 */
class ColocationTest {
  @TempDir Path tmp;

  static NodeDef colocated(NodeDef n, String... with) {
    AttrValue.ListValue.Builder l = AttrValue.ListValue.newBuilder();
    for (String w : with) l.addS(ByteString.copyFromUtf8("loc:@" + w));
    return n.toBuilder().putAttr("_class", AttrValue.newBuilder().setList(l).build()).build();
  }

  /** Every constraint, as "node -> target", of the graph's nodes. */
  static List<String> constraints(GraphDef g) {
    List<String> r = new ArrayList<>();
    for (NodeDef n : g.getNodeList()) for (String t : Colocation.targets(n)) r.add(n.getName() + " -> " + t);
    return r;
  }

  static void assertAllTrue(GraphDef g, String what) {
    Set<String> names = new HashSet<>();
    for (NodeDef n : g.getNodeList()) names.add(n.getName());
    for (NodeDef n : g.getNodeList()) {
      for (String t : Colocation.targets(n)) {
        assertTrue(names.contains(t), what + ": node '" + n.getName() + "' is colocated with missing '" + t + "'");
      }
    }
  }

  private static HostTensor ramp(long... shape) {
    float[] v = new float[(int) HostTensor.numElements(shape)];
    for (int i = 0; i < v.length; i++) v[i] = (i % 7) * 0.1f - 0.3f;
    return HostTensor.ofFloats(shape, v);
  }

  /**
   * x → Identity t (the optimizer removes it) → MatMul (colocated with t) → BiasAdd (with the
   * MatMul) → Relu → Sigmoid kept in TensorFlow (colocated with the Relu, which goes into the
   * engine, and with x, which stays).
   */
  static GraphDef tf1Graph() {
    return TfGraphs.graph(List.of(
        TfGraphs.placeholder("x", DataType.DT_FLOAT, -1, 4),
        TfGraphs.op("Identity", "t", "x"),
        TfGraphs.constant("w", ramp(4, 4)),
        colocated(TfGraphs.op("MatMul", "mm", "t", "w"), "t"),
        TfGraphs.constant("b", ramp(4)),
        colocated(TfGraphs.op("BiasAdd", "add", "mm", "b"), "mm"),
        TfGraphs.op("Relu", "relu", "add"),
        colocated(TfGraphs.op("Sigmoid", "keep", "relu"), "relu", "x")));
  }

  @Test
  void keepTrueDropsOnlyConstraintsOnMissingNodes() {
    GraphDef g = tf1Graph().toBuilder().removeNode(1).build(); // t is gone
    GraphDef k = Colocation.keepTrue(g);
    assertEquals(List.of("add -> mm", "keep -> relu", "keep -> x"), constraints(k));
    assertFalse(TestModels.node(k, "mm").containsAttr("_class"));
  }

  @Test
  void aConvertedTf1GraphKeepsItsConstraintsTrue() throws IOException {
    Path pb = tmp.resolve("tf1.pb");
    Files.write(pb, tf1Graph().toByteArray());
    ConvertJob.Report r = ConvertJob.run(ConvertJob.builder(Loads.of(pb).outputs("keep").build(), tmp.resolve("out")).segments(new Segmenter.Options(3, Integer.MAX_VALUE, Set.of(), Set.of("keep"))).build());
    assertTrue(r.verification().passed());
    assertEquals(1, r.engines().size());
    assertAllTrue(r.plan().graph().graphDef(), "the optimized graph");
    assertAllTrue(r.converted(), "the converted graph");
    // keep stays in TensorFlow, still colocated with x; relu went into the engine.
    assertEquals(List.of("keep -> x"), constraints(r.converted()));
  }

  /** A function body's constraints follow its nodes when it is inlined under the call's name. */
  @Test
  void inliningRenamesConstraintsWithTheirNodes() throws IOException {
    AttrValue f32 = AttrValue.newBuilder().setType(DataType.DT_FLOAT).build();
    FunctionDef fn = FunctionDef.newBuilder()
        .setSignature(OpDef.newBuilder().setName("layer")
            .addInputArg(OpDef.ArgDef.newBuilder().setName("a").setType(DataType.DT_FLOAT))
            .addOutputArg(OpDef.ArgDef.newBuilder().setName("out").setType(DataType.DT_FLOAT)))
        .addNodeDef(TfGraphs.op("Identity", "i", "a"))
        .addNodeDef(colocated(TfGraphs.op("Relu", "r", "i:output:0"), "i"))
        .putRet("out", "r:activations:0")
        .build();
    GraphDef g = TfGraphs.graph(List.of(
        TfGraphs.placeholder("x", DataType.DT_FLOAT, -1, 4),
        NodeDef.newBuilder().setName("call").setOp("PartitionedCall").addInput("x")
            .putAttr("Tin", AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder().addType(DataType.DT_FLOAT)).build())
            .putAttr("Tout", AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder().addType(DataType.DT_FLOAT)).build())
            .putAttr("f", AttrValue.newBuilder().setFunc(NameAttrList.newBuilder().setName("layer")).build())
            .build(),
        TfGraphs.op("Identity", "y", "call").toBuilder().putAttr("T", f32).build()))
        .toBuilder().setLibrary(FunctionDefLibrary.newBuilder().addFunction(fn)).build();
    Path pb = tmp.resolve("fn.pb");
    Files.write(pb, g.toByteArray());
    FreezeJob.Report r = FreezeJob.run(new FreezeJob.Options(Loads.of(pb).outputs("y").build(),
        tmp.resolve("frozen.pb"), true, 0, Map.of()));
    assertTrue(r.verification().passed());
    assertEquals(List.of("call/r -> call/i"), constraints(r.result().graph()));
  }

  /** CRNN_S: a GRU while loop whose TensorArray ops are colocated with nodes the optimizer removes. */
  @Test
  void crnnConvertsWithItsWhileLoopLeftInTensorFlow() {
    Path model = TestModels.shared("kws/CRNN_S.pb");
    try (TfModel m = TfModel.load(LoadOptions.of(model))) {
      assertTrue(constraints(m.graphDef()).size() >= 5, constraints(m.graphDef()).toString());
    }
    ConvertJob.Report r = ConvertJob.run(ConvertJob.builder(Loads.of(model).build().withInputs(List.of("Mfcc:0")), tmp.resolve("crnn")).build());
    assertTrue(r.verification().passed());
    // On the CPU its clusters are too small to pay for engine calls (in the loop and on its fixed shapes).
    assertFalse(r.plan().segments().rejected().isEmpty());
    assertTrue(r.plan().segments().rejected().values().stream().filter(w -> w.contains("CPU engine call")).count() >= 5,
        r.plan().segments().rejected().toString());
    assertFalse(constraints(r.converted()).isEmpty(), "the while loop's own constraints are kept");
    assertAllTrue(r.converted(), "the converted CRNN_S");
  }
}
