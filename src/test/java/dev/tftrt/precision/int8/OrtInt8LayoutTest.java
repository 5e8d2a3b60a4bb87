package dev.tftrt.precision.int8;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtSession;
import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.precision.calibrate.CalibrationData;
import dev.tftrt.precision.calibrate.Calibrator;
import dev.tftrt.precision.calibrate.TensorRanges;
import dev.tftrt.runtime.ort.Ort;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.FashionMnist;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.GraphDef;

/**
 * The CPU-oriented Q/DQ layout on the Fashion-MNIST classifier: DQ -> op -> Q units with int8
 * weight initializers, which ONNX Runtime turns into integer kernels, keeping top-1.
 */
class OrtInt8LayoutTest {
  static ModelProto fp32;
  static ModelProto int8;
  static TensorRanges ranges;
  static Int8Options options = new Int8Options(Calibrator.ENTROPY, Calibrator.DEFAULT_PERCENTILE, null, null, null,
      Int8Options.Rest.FP32, 100);

  @BeforeAll
  static void setUp() throws Exception {
    GraphDef gd = GraphDef.parseFrom(Files.readAllBytes(FashionMnist.model()));
    fp32 = new OnnxExporter(dev.tftrt.convert.ops.StandardConverters.registry()).export(gd, List.of("image:0"), List.of("logits:0"));
    FashionMnist.Split train = FashionMnist.train();
    List<Map<String, HostTensor>> samples = new ArrayList<>();
    for (int b = 0; b < 5; b++) samples.add(Map.of("image", train.batch(b * 100, 100)));
    ranges = Int8Rewrite.calibrate(fp32, CalibrationData.of(samples), options, Int8Layout.ONNXRUNTIME);
    int8 = Int8Rewrite.apply(fp32, ranges, options, Int8Layout.ONNXRUNTIME);
  }

  @Test
  void everyConvAndGemmIsADqOpQUnitWithInt8Weights() {
    Map<String, NodeProto> producer = new HashMap<>();
    Map<String, List<NodeProto>> consumers = new HashMap<>();
    for (NodeProto n : int8.getGraph().getNodeList()) {
      for (String o : n.getOutputList()) producer.put(o, n);
      for (String i : n.getInputList()) consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
    }
    Map<String, TensorProto> init = new HashMap<>();
    for (TensorProto t : int8.getGraph().getInitializerList()) init.put(t.getName(), t);
    int units = 0;
    int withQ = 0;
    for (NodeProto n : int8.getGraph().getNodeList()) {
      if (!List.of("Conv", "MatMul", "Gemm").contains(n.getOpType())) continue;
      units++;
      NodeProto x = producer.get(n.getInput(0));
      assertEquals("DequantizeLinear", x.getOpType(), n.getName() + "'s data input");
      assertEquals("QuantizeLinear", producer.get(x.getInput(0)).getOpType());
      NodeProto w = producer.get(n.getInput(1));
      assertEquals("DequantizeLinear", w.getOpType(), n.getName() + "'s weight");
      TensorProto wq = init.get(w.getInput(0));
      assertNotNull(wq, "the weight is an initializer");
      assertEquals(TensorProto.DataType.INT8_VALUE, wq.getDataType());
      TensorProto scale = init.get(w.getInput(1));
      assertEquals(1, scale.getDimsCount(), "per-channel weight scales");
      assertTrue(scale.getDims(0) > 1);
      if (n.getInputCount() > 2) {
        assertEquals(TensorProto.DataType.INT32_VALUE, init.get(producer.get(n.getInput(2)).getInput(0)).getDataType(),
            "the bias is int32");
      }
      // the output, or the output of the ReLU it feeds, goes to a Q only (the logits stay float)
      String out = n.getOutput(0);
      List<NodeProto> next = consumers.getOrDefault(out, List.of());
      if (next.size() == 1 && next.get(0).getOpType().equals("Relu")) next = consumers.get(next.get(0).getOutput(0));
      if (next != null && next.size() == 1 && next.get(0).getOpType().equals("QuantizeLinear")) withQ++;
    }
    assertEquals(4, units);
    assertEquals(3, withQ, "all but the logits layer end in a Q");
  }

  /** The op types of a model as ONNX Runtime's CPU provider runs it (its optimised graph). */
  static Map<String, Integer> ortOps(ModelProto m, Path dir) throws Exception {
    Path out = dir.resolve("optimized.onnx");
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.setOptimizedModelFilePath(out.toString());
      Ort.environment().createSession(m.toByteArray(), so).close();
    }
    Map<String, Integer> ops = new TreeMap<>();
    for (NodeProto n : ModelProto.parseFrom(Files.readAllBytes(out)).getGraph().getNodeList()) {
      ops.merge(n.getOpType(), 1, Integer::sum);
    }
    return ops;
  }

  /** What the layout is for: ONNX Runtime's CPU provider runs the convs and dense layers as integer kernels. */
  @Test
  void onnxRuntimeFusesThemIntoIntegerKernels(@TempDir Path dir) throws Exception {
    Map<String, Integer> ops = ortOps(int8, dir);
    assertEquals(2, ops.getOrDefault("QLinearConv", 0), ops.toString());
    assertEquals(2, ops.getOrDefault("QGemm", 0), ops.toString());
    assertEquals(null, ops.get("Conv"), ops.toString());
  }

  /**
   * A linear bottleneck (a conv after a ReLU6 with no activation of its own, feeding a residual
   * Add, as MobileNetV2's projections) is fused too: with int8 activations ONNX Runtime left
   * such a Conv -> Q in float (17 of DeepLab's 55 convolutions), with uint8 it makes every conv
   * a QLinearConv.
   */
  @Test
  void aLinearBottleneckIsFusedToo(@TempDir Path dir) throws Exception {
    java.util.Random r = new java.util.Random(4);
    ModelProto m;
    try (dev.tftrt.convert.TfBuilder b = new dev.tftrt.convert.TfBuilder()) {
      org.tensorflow.Output<?> x = b.placeholder("x", org.tensorflow.proto.DataType.DT_FLOAT, -1, 8, 8, 8);
      org.tensorflow.Output<?> c1 = b.op("Relu6").in(conv(b, x, r)).out();
      org.tensorflow.Output<?> c2 = conv(b, c1, r); // the projection: no activation
      org.tensorflow.Output<?> sum = b.op("AddV2").in(c2, x).out(); // a residual, as MobileNetV2's
      org.tensorflow.Output<?> c3 = b.op("Relu6").in(conv(b, sum, r)).out();
      org.tensorflow.Output<?> flat = b.op("Reshape").in(c3, b.ints(-1, 512)).out();
      b.op("MatMul").name("logits").in(flat, b.floats(new long[] {512, 4}, gaussian(r, 512 * 4, 0.05f))).build();
      m = new OnnxExporter(dev.tftrt.convert.ops.StandardConverters.registry()).export(b.graphDef(), List.of("x:0"),
          List.of("logits:0"));
    }
    List<Map<String, HostTensor>> samples = new ArrayList<>();
    for (int k = 0; k < 3; k++) {
      samples.add(Map.of("x", HostTensor.ofFloats(new long[] {4, 8, 8, 8}, gaussian(r, 4 * 8 * 8 * 8, 1f))));
    }
    Int8Options o = new Int8Options(Calibrator.MAX, Calibrator.DEFAULT_PERCENTILE, null, null, null, Int8Options.Rest.FP32, 4);
    ModelProto q = Int8Rewrite.apply(m, Int8Rewrite.calibrate(m, CalibrationData.of(samples), o, Int8Layout.ONNXRUNTIME), o,
        Int8Layout.ONNXRUNTIME);
    Map<String, Integer> ops = ortOps(q, dir);
    assertEquals(3, ops.getOrDefault("QLinearConv", 0), ops.toString());
    assertEquals(null, ops.get("Conv"), ops.toString());
  }

  static org.tensorflow.Output<?> conv(dev.tftrt.convert.TfBuilder b, org.tensorflow.Output<?> x, java.util.Random r) {
    return b.op("Conv2D").in(x, b.floats(new long[] {3, 3, 8, 8}, gaussian(r, 3 * 3 * 8 * 8, 0.2f)))
        .attr("strides", new long[] {1, 1, 1, 1}).attr("padding", "SAME").out();
  }

  static float[] gaussian(java.util.Random r, int n, float sd) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian() * sd;
    return v;
  }

  @Test
  void keepsTop1OnTheTestSplit() {
    FashionMnist.Split test = FashionMnist.test();
    int[] a = FashionMnist.top1(fp32, test);
    int[] q = FashionMnist.top1(int8, test);
    int same = 0;
    for (int i = 0; i < a.length; i++) if (a[i] == q[i]) same++;
    double agree = 100.0 * same / a.length;
    System.out.printf("INT8 onnxruntime layout (entropy): top-1 agreement %.2f%%%n", agree);
    assertTrue(agree >= 99, "top-1 agreement " + agree);
  }

  @Test
  void theTensorRtLayoutStaysTheDefault() {
    TensorRanges r = Int8Rewrite.calibrate(fp32, CalibrationData.of(List.of(Map.of("image", FashionMnist.train().batch(0, 100)))),
        options);
    assertArrayEquals(Int8Rewrite.apply(fp32, r, options).toByteArray(),
        Int8Rewrite.apply(fp32, r, options, Int8Layout.TENSORRT).toByteArray());
    assertEquals(Int8Rewrite.tensorsToCalibrate(fp32), Int8Rewrite.tensorsToCalibrate(fp32, Int8Layout.TENSORRT));
    // the CPU layout measures its ops' outputs too
    assertTrue(Int8Rewrite.tensorsToCalibrate(fp32, Int8Layout.ONNXRUNTIME).contains("dense1:0"));
    assertEquals(ranges.amax().keySet(), new java.util.LinkedHashSet<>(Int8Rewrite.tensorsToCalibrate(fp32, Int8Layout.ONNXRUNTIME)));
  }

}
