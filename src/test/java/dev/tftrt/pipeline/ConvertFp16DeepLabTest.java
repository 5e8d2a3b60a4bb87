package dev.tftrt.pipeline;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.precision.Accuracy;
import dev.tftrt.precision.PrecisionTable;
import dev.tftrt.testing.Loads;
import dev.tftrt.testing.TestModels;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shared DeepLab (MobileNetV2) in FP16, at a small fixed size: one conversion. */
class ConvertFp16DeepLabTest {
  @TempDir Path tmp;

  @Test
  void deeplabConvertsToFp16OpByOp() {
    Path model = TestModels.shared("deeplab-mnv2-portrait/frozen_inference_graph.pb");
    ConvertJob.Report r = ConvertJob.run(ConvertJob.builder(Loads.of(model).build(), tmp.resolve("dl"))
        .shapes(Map.of("ImageTensor", new long[] {1, 129, 129, 3})).backend(dev.tftrt.runtime.backend.Backend.ONNXRUNTIME)
        .precision(dev.tftrt.precision.Precision.FP16).build());
    assertTrue(r.verification().passed(), r.verification().diffs().toString());
    int resizes = 0;
    for (ConvertJob.Engine e : r.engines()) {
      ConvertFp16Test.assertOpsDeclared(e.onnx(), e.precision().table());
      for (NodeProto n : e.onnx().getGraph().getNodeList()) {
        PrecisionTable.Row row = e.precision().table().row(n.getName());
        if (n.getOpType().equals("Resize") && row != null) resizes++;
      }
    }
    assertTrue(resizes > 0, "DeepLab's bilinear resizes are checked");
    Accuracy.Output pixels = r.accuracy().stream().filter(a -> "values".equals(a.agreementOf())).findFirst().orElseThrow();
    assertTrue(pixels.agreement() >= 0.97, "per-pixel agreement " + pixels.agreement());
    Accuracy.Output probs = r.accuracy().stream().filter(a -> a.name().startsWith("SemanticProbabilities")).findFirst().orElseThrow();
    assertTrue(probs.cosine() > 0.999, probs.toString());
  }
}
