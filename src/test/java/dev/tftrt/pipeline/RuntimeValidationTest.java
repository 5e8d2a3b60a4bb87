package dev.tftrt.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtSession;
import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.ConverterRegistry;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.convert.OpConverter;
import dev.tftrt.convert.Rand;
import dev.tftrt.convert.Signature;
import dev.tftrt.convert.TfBuilder;
import dev.tftrt.convert.ops.Activations;
import dev.tftrt.convert.ops.StandardConverters;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TfModel;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.segment.Segment;
import dev.tftrt.segment.Segmenter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;

/** A node whose ONNX ONNX Runtime refuses is left in TensorFlow, and the rest still converts. */
class RuntimeValidationTest {
  private static final DataType F32 = DataType.DT_FLOAT;
  @TempDir Path tmp;

  /** Emits a Concat along an axis the tensor does not have: the checker accepts it, shape inference does not. */
  static final class BrokenSoftsign extends BaseConverter {
    BrokenSoftsign() {
      register(Signature.builder().tensor("features").types("T", F32).build(), "Softsign");
    }

    @Override
    public void convert(NodeView n, OnnxEmitter out) {
      String x = out.input(n, 0);
      out.node("Concat").in(x, x).attr("axis", 7L).out(out.output(n, 0)).emit();
    }
  }

  /** Valid alone, but two of them define the same ONNX value: only the pair is refused. */
  static final class ClashingSoftsign extends BaseConverter {
    ClashingSoftsign() {
      register(Signature.builder().tensor("features").types("T", F32).build(), "Softsign");
    }

    @Override
    public void convert(NodeView n, OnnxEmitter out) {
      out.node("Softsign").in(out.input(n, 0)).out("clash").emit();
      out.alias(n, 0, "clash");
    }
  }

  /** The standard converters, with Softsign's replaced by the given one. */
  private static ConverterRegistry registryWith(OpConverter softsign) {
    List<OpConverter> list = new ArrayList<>();
    for (OpConverter c : StandardConverters.all()) if (!(c instanceof Activations)) list.add(c);
    list.add(softsign);
    return new ConverterRegistry(list);
  }

  private static ConverterRegistry brokenRegistry() {
    return registryWith(new BrokenSoftsign());
  }

  private Path mlp() throws Exception {
    return mlp(false);
  }

  private Path mlp(boolean twice) throws Exception {
    Rand rand = new Rand(9);
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 6);
    Output<?> h = b.op("MatMul").in(x, b.constant(rand.floats(6, 5))).attr("T", F32).out();
    h = b.op("BiasAdd").in(h, b.constant(rand.floats(5))).attr("T", F32).out();
    h = b.op("Softsign").name("softsign").in(h).attr("T", F32).out();
    if (twice) h = b.op("Softsign").name("softsign_2").in(h).attr("T", F32).out();
    h = b.op("MatMul").in(h, b.constant(rand.floats(5, 3))).attr("T", F32).out();
    h = b.op("BiasAdd").in(h, b.constant(rand.floats(3))).attr("T", F32).out();
    b.op("Softmax").name("probs").in(h).attr("T", F32).build();
    Path p = tmp.resolve(twice ? "mlp2.pb" : "mlp.pb");
    Files.write(p, b.graphDef().toByteArray());
    return p;
  }

  private static void assertLoads(byte[] onnx) throws Exception {
    try (OrtSession s = dev.tftrt.runtime.ort.Ort.environment().createSession(onnx)) {
      assertTrue(s.getNumInputs() > 0);
    }
  }

  @Test
  void aNodeWhoseOnnxTheRuntimeRefusesStaysInTensorFlowAndTheRestConverts() throws Exception {
    ConverterRegistry broken = brokenRegistry();
    Segmenter.Options one = new Segmenter.Options(1, Integer.MAX_VALUE, Set.of(), Set.of());
    try (TfModel model = TfModel.load(LoadOptions.of(mlp()))) {
      Plan p = Plan.make(model, Map.of(), one, broken, OnnxExporter.DEFAULT_OPSET);
      String why = p.segments().rejected().get("softsign");
      assertTrue(why != null && why.startsWith("ONNX Runtime refuses its ONNX (") && why.endsWith("), so it stays in TensorFlow."),
          String.valueOf(why));
      assertTrue(why.contains("axis") || why.contains("Concat"), why);
      assertEquals(2, p.segments().segments().size(), "one engine on either side of softsign");
      assertEquals(2, p.computeHeavyInEngines()[0]);
      for (Segment s : p.segments().segments()) {
        assertLoads(new OnnxExporter(broken).export(p.graph(), s.inputs(), s.outputs()).toByteArray());
      }
      // the standard Softsign converts: one engine holds all of it
      Plan ok = Plan.make(model, Map.of(), one);
      assertEquals(1, ok.segments().segments().size());
      assertEquals(0, ok.nodesLeftInTensorFlow());
    }
  }

  @Test
  void whenNoNodeIsRefusedAloneTheWholeSegmentStaysInTensorFlow() throws Exception {
    Segmenter.Options one = new Segmenter.Options(1, Integer.MAX_VALUE, Set.of(), Set.of());
    try (TfModel model = TfModel.load(LoadOptions.of(mlp(true)))) {
      Plan p = Plan.make(model, Map.of(), one, registryWith(new ClashingSoftsign()), OnnxExporter.DEFAULT_OPSET);
      assertEquals(0, p.segments().segments().size());
      String why = p.segments().rejected().get("softsign_2");
      assertTrue(why != null && why.startsWith("its engine's ONNX is refused by ONNX Runtime (")
          && why.endsWith("), though no node's alone is, so the segment stays in TensorFlow."), String.valueOf(why));
      assertEquals(why, p.segments().rejected().get("softsign"));
      assertEquals(0, p.computeHeavyInEngines()[0]);
    }
  }

  /**
   * A FusedBatchNorm whose batch statistics (output 1 on) are read outside, here because
   * nothing reads the node at all (as the fuzzer's duplicated node in DS_CNN_S, seed 1 case
   * 3764): its converter makes only output 0, so the node stays in TensorFlow instead of an
   * internal error, and the rest converts.
   */
  @Test
  void aNodeWhoseNeededOutputItsConverterDoesNotMakeStaysInTensorFlow() throws Exception {
    Path model = batchNormWithUnreadTwin(new Rand(3), tmp);
    Segmenter.Options one = new Segmenter.Options(1, Integer.MAX_VALUE, Set.of(), Set.of());
    try (TfModel m = TfModel.load(LoadOptions.of(model))) {
      Plan p = Plan.make(m, Map.of(), one);
      String why = p.segments().rejected().get("bn_dup");
      assertTrue(why != null && why.startsWith("its output ") && why.endsWith(
          " is read outside the engine, and its converter does not produce it, so it stays in TensorFlow."), String.valueOf(why));
      assertEquals(1, p.computeHeavyInEngines()[0], "the convolution is still in an engine");
    }
  }

  /** x -> Conv2D -> FusedBatchNormV3 -> Relu, and an unread copy of the batch norm. */
  static Path batchNormWithUnreadTwin(Rand rand, Path dir) throws Exception {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, 1, 5, 5, 2);
    Output<?> c = b.op("Conv2D").name("conv").in(x, b.constant(rand.floats(3, 3, 2, 3))).attr("T", F32)
        .attr("strides", new long[] {1, 1, 1, 1}).attr("padding", "SAME").out();
    Output<?>[] stats = {b.constant(rand.range(0.5, 2, 3)), b.constant(rand.floats(3)), b.constant(rand.floats(3)),
        b.constant(rand.range(0.5, 2, 3))};
    for (String name : new String[] {"bn", "bn_dup"}) {
      b.op("FusedBatchNormV3").name(name).in(c, stats[0], stats[1], stats[2], stats[3]).attr("T", F32).attr("U", F32)
          .attr("is_training", false).attr("epsilon", 0.001f).build();
    }
    b.op("Relu").name("y").in(b.graph().operation("bn").output(0)).attr("T", F32).build();
    Path p = dir.resolve("bn-twin.pb");
    Files.write(p, b.graphDef().toByteArray());
    return p;
  }
}
