package dev.tftrt.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import dev.tftrt.demo.DemoModel;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.precision.Accuracy;
import dev.tftrt.precision.PrecisionTable;
import dev.tftrt.runtime.ConvertedRunner;
import dev.tftrt.runtime.TfRunner;
import dev.tftrt.runtime.TftrtModel;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.model.ConvertedModel;
import dev.tftrt.model.Payloads;
import dev.tftrt.model.TfModel;
import dev.tftrt.testing.Loads;
import dev.tftrt.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** convert --precision fp16: the demo model and a KWS network, op by op, and the report's truth. */
class ConvertFp16Test {
  @TempDir Path tmp;

  static final int H = TensorProto.DataType.FLOAT16_VALUE;
  static final int F = TensorProto.DataType.FLOAT_VALUE;

  static ConvertJob.Options fp16(LoadOptions load, Path out, ConvertJob.FloatOptions f) {
    return ConvertJob.builder(load, out).backend(dev.tftrt.runtime.backend.Backend.ONNXRUNTIME)
        .precision(dev.tftrt.precision.Precision.FP16).floats(f).build();
  }

  /** The element type of every value of an ONNX model, as the precision stage infers it. */
  static Map<String, Integer> types(ModelProto m) {
    return dev.tftrt.precision.PrecisionTestAccess.types(m);
  }

  static void assertOpsDeclared(ModelProto m, PrecisionTable t) {
    Map<String, Integer> ty = types(m);
    // The engine's inputs and outputs keep the model's dtypes (FP32, or uint8 images): never FP16.
    for (ValueInfoProto v : m.getGraph().getInputList()) assertTrue(v.getType().getTensorType().getElemType() != H, v.getName());
    for (ValueInfoProto v : m.getGraph().getOutputList()) {
      assertEquals(v.getType().getTensorType().getElemType(), ty.get(v.getName()), v.getName() + " keeps its dtype");
      assertTrue(ty.get(v.getName()) != H, v.getName());
    }
    int convs = 0;
    for (NodeProto n : m.getGraph().getNodeList()) {
      PrecisionTable.Row r = t.row(n.getName());
      if (r == null) continue; // a cast the stage placed
      int want = r.precision().equals("fp16") ? H : r.precision().equals("fp32") ? F : -1;
      if (want < 0) continue;
      for (int i = 0; i < n.getInputCount(); i++) {
        String v = n.getInput(i);
        if (!ty.containsKey(v) || (ty.get(v) != H && ty.get(v) != F)) continue;
        if (n.getOpType().equals("Resize") && i > 0) {
          assertEquals(F, ty.get(v), "Resize keeps its roi and scales FP32");
          continue;
        }
        if (n.getOpType().equals("Cast")) continue;
        assertEquals(want, ty.get(v), n.getName() + " input " + i + " (" + r.precision() + ")");
      }
      if (n.getOpType().equals("Conv") || n.getOpType().equals("MatMul")) {
        assertEquals("fp16", r.precision(), n.getName() + ": " + r.reason());
        convs++;
      }
      if (n.getOpType().equals("Softmax") || n.getOpType().equals("Exp")) assertEquals("fp32", r.precision());
    }
    assertTrue(convs > 0);
  }

  @Test
  void demoModelConvertsToFp16AndItsReportIsWhatCompareMeasures() throws Exception {
    Path saved = tmp.resolve("saved");
    DemoModel.save(saved, 3);
    Path out = tmp.resolve("fp16");
    ConvertJob.Report r = ConvertJob.run(fp16(LoadOptions.of(saved), out,
        new ConvertJob.FloatOptions(Set.of("dense1/MatMul"), Double.NaN)));
    assertTrue(r.verification().passed());
    ConvertJob.Engine e = r.engines().get(0);
    assertEquals("fp16", e.node().precision());
    PrecisionTable t = e.precision().table();
    // --keep-fp32 named the TensorFlow node: its MatMul stays FP32, the other is FP16.
    NodeProto dense1 = e.onnx().getGraph().getNodeList().stream()
        .filter(n -> n.getOpType().equals("MatMul") && n.getDocString().equals("dense1/MatMul")).findFirst().orElseThrow();
    assertEquals("fp32", t.row(dense1.getName()).precision());
    assertEquals("--keep-fp32 dense1/MatMul", t.row(dense1.getName()).reason());
    ModelProto withoutKeep = ModelProto.parseFrom(Payloads.read(out, "TftrtEngine_0",
        Payloads.find(ConvertedModel.readManifest(out), "TftrtEngine_0", Payloads.ONNX).orElseThrow()));
    assertEquals(e.onnx(), withoutKeep, "the folder holds the rewritten ONNX");
    assertTrue(e.precision().accuracy() != null && Accuracy.minCosine(e.precision().accuracy()) > 0.999);
    assertEquals("fp16", ConvertedModel.readManifest(out).engines().get(0).precision());

    // The report's figures are re-measured by running the folder against the original on the same inputs.
    String json = Files.readString(out.resolve("report.json"));
    assertTrue(json.contains("\"accuracy\"") && json.contains("\"precision\" : \"fp16\""), json.substring(0, 300));
    assertTrue(Files.readString(out.resolve("report.md")).contains("| " + dense1.getName() + " | MatMul | dense1/MatMul | fp32 |"));
    try (TfModel original = TfModel.load(LoadOptions.of(saved));
        ConvertedRunner converted = new ConvertedRunner(TftrtModel.load(out, TftrtModel.Options.defaults().withBackend(dev.tftrt.runtime.backend.Backend.ONNXRUNTIME), "the fp16 folder"))) {
      List<Accuracy.Output> again = Accuracy.measure(TfRunner.borrowing(original), converted, List.of(r.verification().feeds()));
      assertEquals(r.accuracy(), again);
    }
  }

  @Test
  void anAccuracyBudgetRevertsTheMostSensitiveNodesUntilItHolds() throws Exception {
    Path saved = tmp.resolve("saved");
    DemoModel.save(saved, 3);
    ConvertJob.Report plain = ConvertJob.run(fp16(LoadOptions.of(saved), tmp.resolve("a"), ConvertJob.FloatOptions.NONE));
    double before = Accuracy.minCosine(plain.engines().get(0).precision().accuracy());
    double budget = 1 - (1 - before) / 4;
    ConvertJob.Report r = ConvertJob.run(fp16(LoadOptions.of(saved), tmp.resolve("b"), new ConvertJob.FloatOptions(Set.of(), budget)));
    var p = r.engines().get(0).precision();
    assertFalse(p.reverted().isEmpty(), "cosine " + before + " is below the budget " + budget);
    assertTrue(Accuracy.minCosine(p.accuracy()) >= budget, Accuracy.minCosine(p.accuracy()) + " < " + budget);
    for (String n : p.reverted()) assertEquals("fp32", p.table().row(n).precision());
    assertTrue(p.table().counts().getOrDefault("fp16", 0) > 0, "not everything went back to FP32: " + p.table().counts());
  }

  @Test
  void kwsNetworkConvertsToFp16() {
    Path model = TestModels.shared("kws/DS_CNN_S.pb");
    ConvertJob.Report r = ConvertJob.run(fp16(Loads.of(model).build().withInputs(List.of("Mfcc:0")), tmp.resolve("kws"),
        ConvertJob.FloatOptions.NONE));
    assertTrue(r.verification().passed(), r.verification().diffs().toString());
    for (ConvertJob.Engine e : r.engines()) assertOpsDeclared(e.onnx(), e.precision().table());
    Accuracy.Output labels = r.accuracy().stream().filter(a -> !Double.isNaN(a.agreement())).findFirst().orElseThrow();
    assertEquals(1.0, labels.agreement(), labels.toString());
  }
}
