package dev.tftrt.convert.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.convert.ConverterTest;
import dev.tftrt.convert.Covers;
import dev.tftrt.convert.OnnxCheck;
import dev.tftrt.convert.TfBuilder;
import dev.tftrt.convert.onnx.TensorProto;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;

/**
 * 8-bit weights behind Dequantize stay 8-bit in the ONNX, laid out for the ONNX op at conversion
 * time, and give TensorFlow's values: the Dequantize itself bit for bit.
 */
class DequantizedWeightsTest extends ConverterTest {
  private static final String[] MODES = {"MIN_FIRST", "MIN_COMBINED", "SCALED"};
  /** Ranges whose MIN_FIRST rounding of min moves it (-0.3: min / scale is -76.5 before rounding). */
  private static final float[][] RANGES = {{-0.3f, 0.7f}, {-1.5f, 2f}, {0.1f, 6f}, {-4.2f, -1f}};

  private byte[] levels(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) b[i] = (byte) rand.range(0, 256, 1).getDouble(0);
    b[0] = 0; // both ends of the 8-bit range
    b[n - 1] = (byte) 255;
    return b;
  }

  private static Output<?> dequantize(TfBuilder b, String name, Output<?> q, DataType t, String mode, float[] r) {
    return b.op("Dequantize").name(name).in(q, b.floats(s(), r[0]), b.floats(s(), r[1])).attr("T", t).attr("mode", mode).out();
  }

  /** Initializers of the model by dtype, counting only those of at least {@code elements} values. */
  private static List<Integer> bigInitializerTypes(OnnxCheck c, long elements) {
    List<Integer> types = new ArrayList<>();
    for (TensorProto t : c.model().getGraph().getInitializerList()) {
      long n = 1;
      for (long d : t.getDimsList()) n *= d;
      if (n >= elements) types.add(t.getDataType());
    }
    return types;
  }

  @Test
  @Covers("Dequantize")
  void dequantizedValuesAreTensorFlowsBitForBit() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 6);
    List<String> outs = new ArrayList<>();
    for (DataType t : new DataType[] {DataType.DT_QUINT8, DataType.DT_QINT8}) {
      Output<?> q = b.quantizedConst("q_" + t.name(), t, s(6, 40), levels(240));
      for (String mode : MODES) {
        for (int k = 0; k < RANGES.length; k++) {
          if (mode.equals("SCALED") && t == DataType.DT_QUINT8 && RANGES[k][1] < 0) continue;
          String name = t.name() + "_" + mode + "_" + k;
          b.op("Identity").name(name).in(dequantize(b, name + "_dq", q, t, mode, RANGES[k])).build();
          outs.add(name);
        }
      }
    }
    // the graph needs an input to be exported; x is only fed
    b.op("Identity").name("xs").in(x).build();
    outs.add("xs");
    OnnxCheck c = OnnxCheck.of(b).feed("x", rand.floats(1, 6)).outputs(outs.toArray(String[]::new)).tol(0, 0).run();
    assertEquals(outs.size() - 1, c.count("DequantizeLinear"));
    assertTrue(bigInitializerTypes(c, 240).stream().allMatch(d -> d == TensorProto.DataType.UINT8_VALUE
        || d == TensorProto.DataType.INT8_VALUE), "8-bit initializers only");
  }

  @Test
  @Covers({"Conv2D", "DepthwiseConv2dNative", "MatMul"})
  void convolutionsAndMatmulsKeepDequantizedWeights8Bit() {
    for (String mode : MODES) {
      for (DataType t : new DataType[] {DataType.DT_QUINT8, DataType.DT_QINT8}) {
        TfBuilder b = new TfBuilder();
        Output<?> x = b.placeholder("x", F32, 1, 9, 9, 8);
        float[] r = RANGES[0];
        Output<?> f = dequantize(b, "f", b.quantizedConst("fq", t, s(3, 3, 8, 16), levels(3 * 3 * 8 * 16)), t, mode, r);
        b.op("Conv2D").name("conv").in(x, f).attr("T", F32).attr("strides", s(1, 2, 2, 1)).attr("padding", "SAME").build();
        Output<?> d = dequantize(b, "d", b.quantizedConst("dq", t, s(3, 3, 8, 2), levels(3 * 3 * 8 * 2)), t, mode, RANGES[1]);
        b.op("DepthwiseConv2dNative").name("dw").in(x, d).attr("T", F32).attr("strides", s(1, 1, 1, 1))
            .attr("padding", "VALID").build();
        OnnxCheck c = OnnxCheck.of(b).feed("x", rand.floats(1, 9, 9, 8));
        int weights = 2;
        // SCALED has no offset, and ONNX Runtime turns a DequantizeLinear straight into a MatMul into
        // a matmul on dynamically quantized activations (0.3% off): the optimizer folds those
        if (!mode.equals("SCALED")) {
        Output<?> v = b.placeholder("v", F32, 3, 64);
        Output<?> w = dequantize(b, "w", b.quantizedConst("wq", t, s(64, 20), levels(64 * 20)), t, mode, RANGES[2]);
        b.op("MatMul").name("mm").in(v, w).attr("T", F32).build();
        Output<?> wt = dequantize(b, "wt", b.quantizedConst("wtq", t, s(20, 64), levels(64 * 20)), t, mode, RANGES[3]);
        b.op("MatMul").name("mmt").in(v, wt).attr("T", F32).attr("transpose_b", true).build();
        c.feed("v", rand.floats(3, 64)).outputs("mm", "mmt");
        weights = 4;
        }
        c.outputs("conv", "dw").tol(1e-5, 1e-5).run();
        String what = mode + " " + t;
        List<Integer> big = bigInitializerTypes(c, 144);
        assertEquals(weights, big.size(), what + ": one initializer per weight (the untransposed copies pruned): " + big);
        int want = t == DataType.DT_QUINT8 ? TensorProto.DataType.UINT8_VALUE : TensorProto.DataType.INT8_VALUE;
        assertTrue(big.stream().allMatch(d2 -> d2 == want), what + ": weights stay 8-bit: " + big);
        assertEquals(weights, c.count("DequantizeLinear"), what);
        assertEquals(0, c.model().getGraph().getNodeList().stream()
            .filter(n -> n.getOpType().equals("Transpose") && n.getInputList().stream().anyMatch(i -> i.contains("quantized")))
            .count(), what + ": weights are laid out at conversion, not by a Transpose at run time");
      }
    }
  }

  @Test
  void anEmptyRangeBecomesTensorFlowsExactFloats() {
    TfBuilder b = new TfBuilder();
    Output<?> v = b.placeholder("v", F32, 2, 4);
    Output<?> q = b.quantizedConst("q", DataType.DT_QUINT8, s(4, 3), levels(12));
    for (String mode : new String[] {"MIN_FIRST", "MIN_COMBINED"}) {
      Output<?> w = dequantize(b, mode + "_w", q, DataType.DT_QUINT8, mode, new float[] {0.75f, 0.75f});
      b.op("Identity").name(mode + "_id").in(w).build();
      b.op("MatMul").name(mode).in(v, w).attr("T", F32).build();
    }
    OnnxCheck c = OnnxCheck.of(b).feed("v", rand.floats(2, 4)).outputs("MIN_FIRST_id", "MIN_COMBINED_id").tol(0, 0).run();
    assertEquals(0, c.count("DequantizeLinear"), "a zero scale is no DequantizeLinear");
    OnnxCheck.of(b).feed("v", rand.floats(2, 4)).outputs("MIN_FIRST", "MIN_COMBINED").tol(1e-6, 1e-6).run();
  }

  @Test
  void aDequantizedFilterThatDoesNotConvertSaysWhy() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, 1, 5, 5, 2);
    Output<?> q = b.quantizedConst("q", DataType.DT_QUINT8, s(1, 1, 2, 3), levels(6));
    Output<?> f = b.op("Dequantize").name("f").in(q, b.floats(s(), 2f), b.floats(s(), 1f)).attr("T", DataType.DT_QUINT8)
        .attr("mode", "MIN_FIRST").out();
    b.op("Conv2D").name("conv").in(x, f).attr("T", F32).attr("strides", s(1, 1, 1, 1)).attr("padding", "VALID").build();
    Output<?> p = b.placeholder("p", F32, 1, 1, 2, 3);
    b.op("Conv2D").name("computed").in(x, p).attr("T", F32).attr("strides", s(1, 1, 1, 1)).attr("padding", "VALID").build();
    assertEquals("its weight f:0 is a Dequantize that does not convert: min_range is above max_range.",
        OnnxCheck.validate(b, "conv").orElseThrow());
    assertEquals("its input 'filter' must be a constant or a Dequantize of constants, and p:0 is computed.",
        OnnxCheck.validate(b, "computed").orElseThrow());
  }
}
