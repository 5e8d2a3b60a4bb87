package dev.tftrt.convert;

import dev.tftrt.convert.ops.StandardConverters;
import dev.tftrt.pipeline.ExportJob;

import dev.tftrt.model.TensorNames;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.tensor.HostTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Assumptions;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;

/**
 * The shared real models export (cut where their pre/post-processing cannot convert), run in
 * ONNX Runtime, and match TensorFlow on random inputs. Each model is loaded once.
 */
class RealModelsTest {
  static final Path MODELS = Path.of("../shared/models");
  private final Rand rand = new Rand(42);

  @BeforeAll
  static void modelsPresent() {
    Assumptions.assumeTrue(Files.isDirectory(MODELS), "../shared/models is absent");
  }

  static GraphDef load(String rel) throws Exception {
    return GraphDef.parseFrom(Files.readAllBytes(MODELS.resolve(rel)));
  }

  /** Runs TensorFlow on the whole graph with feeds (any tensors), fetching outputs. */
  static Map<String, HostTensor> runTf(GraphDef gd, Map<String, HostTensor> feeds, List<String> fetches) {
    return dev.tftrt.testing.TfGraphs.runGraph(gd, feeds, fetches);
  }

  static Map<String, HostTensor> runOnnx(ModelProto m, Map<String, HostTensor> feeds) throws OrtException {
    Map<String, HostTensor> r = new HashMap<>();
    List<OnnxTensor> in = new ArrayList<>();
    try (OrtSession s = OnnxCheck.env().createSession(m.toByteArray())) {
      Map<String, OnnxTensor> feedMap = new HashMap<>();
      for (Map.Entry<String, HostTensor> e : feeds.entrySet()) {
        OnnxTensor t = OnnxCheck.toOrt(e.getValue());
        in.add(t);
        feedMap.put(TensorNames.canonical(e.getKey()), t);
      }
      try (OrtSession.Result res = s.run(feedMap)) {
        for (var e : res) r.put(e.getKey(), OnnxCheck.fromOrt((OnnxTensor) e.getValue()));
      }
    } finally {
      for (OnnxTensor t : in) t.close();
    }
    return r;
  }

  /** max |a - b| / (atol + rtol |a|) must be <= 1. */
  static void assertClose(String what, HostTensor want, HostTensor got, double rtol, double atol) {
    assertEquals(java.util.Arrays.toString(want.shape()), java.util.Arrays.toString(got.shape()), what + ": shape");
    double worst = 0;
    for (long i = 0; i < want.numElements(); i++) {
      double w = want.getDouble(i);
      double g = got.getDouble(i);
      double d = Math.abs(w - g) / (atol + rtol * Math.abs(w));
      if (Double.isNaN(d)) fail(what + ": NaN at " + i);
      worst = Math.max(worst, d);
    }
    assertTrue(worst <= 1, what + ": worst error is " + worst + " x tolerance (rtol " + rtol + ", atol " + atol + ")");
  }

  /** Exports inputs -> outputs, runs both sides on the same feeds, compares. */
  private ModelProto check(GraphDef gd, OnnxExporter ex, Map<String, HostTensor> tfFeeds,
      Map<String, HostTensor> onnxFeeds, List<String> outputs, double rtol, double atol) throws Exception {
    ModelProto m = ex.export(gd, new ArrayList<>(onnxFeeds.keySet()), outputs);
    Map<String, HostTensor> want = runTf(gd, tfFeeds, outputs);
    Map<String, HostTensor> got = runOnnx(m, onnxFeeds);
    for (String o : outputs) assertClose(o, want.get(o), got.get(TensorNames.canonical(o)), rtol, atol);
    return m;
  }

  @Test
  void mlpFcLayers() throws Exception {
    GraphDef gd = load("mlp-fc-layers/frozen.pb");
    Map<String, HostTensor> feeds = Map.of("X", rand.range(0, 1, 3, 784));
    ModelProto m = check(gd, new OnnxExporter(StandardConverters.registry()), feeds, feeds, List.of("output"), 1e-4, 1e-4);
    assertEquals(0, OnnxExporter.countTransposes(m));
  }

  @Test
  void deeplabAtBothInputSizes() throws Exception {
    GraphDef gd = load("deeplab-mnv2-portrait/frozen_inference_graph.pb");
    // The front end (uint8 image, Assert, pad-to-513 with computed paddings) stays in TensorFlow:
    // the network starts at sub_2, the normalised image padded to 1x513x513x3.
    String cut = "sub_2";
    List<String> outputs = List.of("RawSemanticProbabilities", "ResizeBilinear_1");
    ModelProto m = new OnnxExporter(StandardConverters.registry()).inputShape(cut, 1, 513, 513, 3).export(gd, List.of(cut), outputs);
    int transposes = OnnxExporter.countTransposes(m);
    System.out.println("deeplab: " + m.getGraph().getNodeCount() + " ONNX nodes, " + transposes + " transposes left");
    // One into NCHW after the input, one back for each of the two NHWC outputs: the minimum.
    assertEquals(3, transposes, "transposes left in deeplab");
    for (int size : new int[] {257, 513}) {
      HostTensor image = rand.uniform(DataType.DT_UINT8, new long[] {1, size, size, 3}, 0, 256);
      List<String> fetch = new ArrayList<>(outputs);
      fetch.add(cut);
      Map<String, HostTensor> tf = runTf(gd, Map.of("ImageTensor", image), fetch);
      Map<String, HostTensor> onnx = runOnnx(m, Map.of(cut, tf.get(cut)));
      assertClose(size + " probabilities", tf.get(outputs.get(0)), onnx.get(TensorNames.canonical(outputs.get(0))), 1e-3, 1e-4);
      assertClose(size + " logits", tf.get(outputs.get(1)), onnx.get(TensorNames.canonical(outputs.get(1))), 1e-3, 1e-3);
    }
  }

  /**
   * The whole DeepLab graph (uint8 image in, class predictions and NHWC probabilities out) at
   * two fixed sizes, as export-onnx does it: two transposes are left, into the first
   * convolution and out to SemanticProbabilities; ArgMax and Softmax share the logits, and the
   * predictions' expand, nearest resize and squeeze run in NCHW.
   */
  @Test
  void deeplabWholeGraphKeepsTwoTransposes() {
    for (long size : new long[] {257, 513}) {
      ExportJob.Report r = ExportJob.run(new ExportJob.Options(
          dev.tftrt.model.LoadOptions.of(MODELS.resolve("deeplab-mnv2-portrait/frozen_inference_graph.pb")), null,
          OnnxExporter.DEFAULT_OPSET, Map.of("ImageTensor", new long[] {1, size, size, 3}), true, 3));
      assertTrue(r.verification().passed(), size + ": " + r.verification().diffs());
      assertTrue(r.verification().diffs().stream().filter(d -> d.name().equals("SemanticPredictions"))
          .allMatch(dev.tftrt.runtime.Comparison.Diff::identical), size + ": predictions pixel for pixel");
      List<dev.tftrt.convert.onnx.NodeProto> ts = r.model().getGraph().getNodeList().stream()
          .filter(n -> n.getOpType().equals("Transpose")).toList();
      assertEquals(2, OnnxExporter.countTransposes(r.model()), size + ": " + ts);
      assertEquals(List.of("sub_2:0"), ts.stream().map(n -> n.getInput(0)).filter(i -> i.startsWith("sub_2")).toList());
      assertEquals("SemanticProbabilities:0", ts.get(1).getOutput(0));
    }
  }

  @Test
  void lstmUnrolledWithKeepProbOne() throws Exception {
    GraphDef gd = load("lstm-unrolled/frozen.pb");
    // Dropout draws RandomUniform; with keep_prob = 1 its mask floor(keep_prob + U[0,1)) is all
    // ones. The mask is cut off as an input (fed what TensorFlow computed), the rest converts.
    HostTensor x = rand.range(0, 1, 2, 784);
    HostTensor keep = HostTensor.scalarOf(DataType.DT_FLOAT, 1.0);
    Map<String, HostTensor> tf = runTf(gd, Map.of("X", x, "keep_prob", keep), List.of("output", "model/dropout/Floor"));
    HostTensor mask = tf.get("model/dropout/Floor");
    for (long i = 0; i < mask.numElements(); i++) assertEquals(1.0, mask.getDouble(i));
    Map<String, HostTensor> feeds = new LinkedHashMap<>();
    feeds.put("X", x);
    feeds.put("keep_prob", keep);
    feeds.put("model/dropout/Floor", mask);
    ModelProto m = new OnnxExporter(StandardConverters.registry()).inputShape("keep_prob").export(gd, new ArrayList<>(feeds.keySet()), List.of("output"));
    assertClose("output", tf.get("output"), runOnnx(m, feeds).get("output:0"), 1e-4, 1e-5);
    // Without the cut the random op is named as the reason.
    UnsupportedNodesException e = assertThrows(UnsupportedNodesException.class,
        () -> new OnnxExporter(StandardConverters.registry()).export(gd, List.of("X", "keep_prob"), List.of("output")));
    assertTrue(e.nodes().stream().anyMatch(u -> u.op().equals("RandomUniform")), e.getMessage());
  }

  private void kws(String file, long frames) throws Exception {
    GraphDef gd = load("kws/" + file);
    HostTensor mfcc = rand.range(-20, 20, 1, frames, 10);
    Map<String, HostTensor> feeds = Map.of("Mfcc", mfcc);
    check(gd, new OnnxExporter(StandardConverters.registry()).inputShape("Mfcc", 1, frames, 10), feeds, feeds, List.of("labels_softmax"), 1e-4, 1e-5);
  }

  @Test
  void kwsNetworksAfterTheMfccFrontEnd() throws Exception {
    kws("DS_CNN_S.pb", 49);
    kws("CNN_S.pb", 49);
    kws("DNN_S.pb", 25);
  }

  @Test
  void kwsLstmLoopIsRejectedAndTheHeadConverts() throws Exception {
    GraphDef gd = load("kws/LSTM_S.pb");
    UnsupportedNodesException e = assertThrows(UnsupportedNodesException.class,
        () -> new OnnxExporter(StandardConverters.registry()).inputShape("Mfcc", 1, 25, 10).export(gd, List.of("Mfcc"), List.of("labels_softmax")));
    assertTrue(e.nodes().stream().anyMatch(u -> u.op().equals("Enter")
        && u.reason().equals("no converter handles op Enter.")), e.getMessage());
    assertTrue(e.nodes().stream().anyMatch(u -> u.op().equals("TensorArrayV3")), e.getMessage());
    // After the loop: its final output -> projection -> softmax converts.
    String exit = "LSTM-Layer/lstm/rnn/while/Exit_3";
    HostTensor mfcc = rand.range(-20, 20, 1, 25, 10);
    Map<String, HostTensor> tf = runTf(gd, Map.of("Mfcc", mfcc), List.of(exit, "labels_softmax"));
    ModelProto m = new OnnxExporter(StandardConverters.registry()).export(gd, List.of(exit), List.of("labels_softmax"));
    assertClose("labels_softmax", tf.get("labels_softmax"),
        runOnnx(m, Map.of(exit, tf.get(exit))).get("labels_softmax:0"), 1e-4, 1e-6);
  }
}
