package dev.tftrt.precision.int8;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.convert.TfBuilder;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.precision.calibrate.CalibrationData;
import dev.tftrt.precision.calibrate.Calibrator;
import dev.tftrt.precision.calibrate.TensorRanges;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.tensor.HostTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;

/** Q/DQ placement on a small residual conv net, checked node by node, and run. */
class Int8RewriteTest {
  static final Set<String> SHAPE_OPS = Set.of("Reshape", "Transpose", "Concat", "Slice", "Squeeze", "Unsqueeze", "Shape");

  static ModelProto residualNet() {
    Random r = new Random(2);
    try (TfBuilder b = new TfBuilder()) {
      Output<?> x = b.placeholder("x", DataType.DT_FLOAT, -1, 8, 8, 4);
      Output<?> c1 = b.op("Relu").in(conv(b, x, r)).out();
      Output<?> c2 = conv(b, c1, r);
      Output<?> sum = b.op("AddV2").name("residual").in(c2, c1).out();
      Output<?> pool = b.op("MaxPool").in(sum).attr("ksize", new long[] {1, 2, 2, 1}).attr("strides", new long[] {1, 2, 2, 1})
          .attr("padding", "VALID").out();
      Output<?> flat = b.op("Reshape").in(pool, b.ints(-1, 64)).out();
      float[] w = new float[64 * 5];
      for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.1f;
      b.op("MatMul").name("logits").in(flat, b.floats(new long[] {64, 5}, w)).build();
      return new OnnxExporter(dev.tftrt.convert.ops.StandardConverters.registry()).export(b.graphDef(), List.of("x:0"), List.of("logits:0"));
    }
  }

  static Output<?> conv(TfBuilder b, Output<?> x, Random r) {
    float[] w = new float[3 * 3 * 4 * 4];
    for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian() * 0.3f;
    return b.op("Conv2D").in(x, b.floats(new long[] {3, 3, 4, 4}, w)).attr("strides", new long[] {1, 1, 1, 1})
        .attr("padding", "SAME").out();
  }

  static List<Map<String, HostTensor>> samples(int n, long seed) {
    Random r = new Random(seed);
    List<Map<String, HostTensor>> s = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      float[] v = new float[4 * 8 * 8 * 4];
      for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
      s.add(Map.of("x", HostTensor.ofFloats(new long[] {4, 8, 8, 4}, v)));
    }
    return s;
  }

  @Test
  void qdqGoWhereTensorRtFusesThemAndNowhereElse() {
    ModelProto fp32 = residualNet();
    byte[] before = fp32.toByteArray();
    Int8Options o = Int8Options.defaults();
    TensorRanges ranges = Int8Rewrite.calibrate(fp32, CalibrationData.of(samples(4, 1)), o);
    ModelProto int8 = Int8Rewrite.apply(fp32, ranges, o);
    assertArrayEquals(before, fp32.toByteArray(), "the input model is never changed");
    Map<String, NodeProto> producer = new java.util.HashMap<>();
    for (NodeProto n : int8.getGraph().getNodeList()) for (String out : n.getOutputList()) producer.put(out, n);
    int weightsPerChannel = 0;
    for (NodeProto n : int8.getGraph().getNodeList()) {
      String op = n.getOpType();
      if (op.equals("Conv") || op.equals("MatMul")) {
        for (int i = 0; i < 2; i++) {
          NodeProto p = producer.get(n.getInput(i));
          assertEquals("DequantizeLinear", p == null ? "an initializer or input" : p.getOpType(),
              op + " " + n.getName() + " input " + i);
          if (i == 1 && !p.getAttributeList().isEmpty()) weightsPerChannel++;
        }
      }
      if (op.equals("MaxPool")) assertEquals("DequantizeLinear", producer.get(n.getInput(0)).getOpType());
      if (SHAPE_OPS.contains(op)) {
        NodeProto p = producer.get(n.getInput(0));
        assertTrue(p == null || !p.getOpType().equals("DequantizeLinear"), op + " " + n.getName() + " is fed a DQ");
      }
    }
    NodeProto residual = int8.getGraph().getNodeList().stream()
        .filter(n -> n.getOpType().equals("Add") && n.getOutput(0).startsWith("residual")).findFirst().orElseThrow();
    for (String in : residual.getInputList()) {
      assertEquals("DequantizeLinear", producer.get(in).getOpType(), "residual Add input " + in);
    }
    assertEquals(3, weightsPerChannel, "both convs and the matmul have per-channel weight scales");
    // it runs, and stays close to FP32 on fresh data
    HostTensor x = samples(1, 99).get(0).get("x");
    try (OnnxRunner a = new OnnxRunner(fp32.toByteArray(), "fp32"); OnnxRunner q = new OnnxRunner(int8.toByteArray(), "int8")) {
      HostTensor ya = a.run(Map.of("x:0", x)).get("logits:0");
      HostTensor yq = q.run(Map.of("x:0", x)).get("logits:0");
      double ab = 0, aa = 0, bb = 0;
      for (long i = 0; i < ya.numElements(); i++) {
        ab += ya.getDouble(i) * yq.getDouble(i);
        aa += ya.getDouble(i) * ya.getDouble(i);
        bb += yq.getDouble(i) * yq.getDouble(i);
      }
      assertTrue(ab / Math.sqrt(aa * bb) > 0.99, "cosine " + ab / Math.sqrt(aa * bb));
    }
  }

  @Test
  void oldOpsetsAndBadOptionsAreOneSentence() {
    ModelProto fp32 = residualNet();
    ModelProto old = fp32.toBuilder().setOpsetImport(0, fp32.getOpsetImport(0).toBuilder().setVersion(11)).build();
    TensorRanges none = new TensorRanges("max", "", "", 0, Map.of());
    assertEquals("INT8 needs ONNX opset 13 or newer (per-channel Q/DQ), and this segment has 11; convert with --opset 13 or above.",
        assertThrows(TftrtException.class, () -> Int8Rewrite.apply(old, none)).getMessage());
    assertEquals("--precision int8 needs --calibration-data PATH (or a --calibration-cache FILE written by an earlier run).",
        assertThrows(TftrtException.class, () -> Int8Options.parse(null, null, null, null, null)).getMessage());
    assertEquals("Unknown calibrator 'kl': use max, percentile, entropy or mse.",
        assertThrows(TftrtException.class, () -> Int8Options.parse("kl", ".", null, null, null)).getMessage());
    assertEquals("--int8-rest 'int4' is not fp16 or fp32.",
        assertThrows(TftrtException.class, () -> Int8Options.parse(null, ".", null, null, "int4")).getMessage());
    Int8Options o = Int8Options.parse("percentile:99.9", ".", null, "scale=1/255", "fp32");
    assertEquals(Calibrator.PERCENTILE, o.calibrator());
    assertEquals(99.9, o.percentile());
    assertEquals(Int8Options.Rest.FP32, o.rest());
  }
}
