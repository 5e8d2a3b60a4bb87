package dev.tftrt.convert.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tftrt.convert.ConverterTest;
import dev.tftrt.convert.Covers;
import dev.tftrt.convert.OnnxCheck;
import dev.tftrt.convert.TfBuilder;
import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/** Simulated quantization ops become Q/DQ pairs with TensorFlow's own scales. */
class QuantizationTest extends ConverterTest {
  /** One quantization level of slack is never needed: values match to float rounding. */
  private static final double TOL = 1e-5;

  private static final float[][] RANGES = {{-6f, 6f}, {-1f, 3f}, {0f, 2.5f}, {-0.3f, 0.7f}, {0.5f, 2f}, {-4f, -1f}};

  @Test
  @Covers({"FakeQuantWithMinMaxArgs", "FakeQuantWithMinMaxVars"})
  void fakeQuantMatchesTensorFlowsNudging() {
    for (float[] r : RANGES) {
      for (boolean narrow : new boolean[] {false, true}) {
        TfBuilder b = new TfBuilder();
        Output<?> x = b.placeholder("x", F32, -1, 7);
        b.op("FakeQuantWithMinMaxArgs").name("args").in(x).attr("min", r[0]).attr("max", r[1])
            .attr("num_bits", 8L).attr("narrow_range", narrow).build();
        b.op("FakeQuantWithMinMaxVars").name("vars").in(x, b.floats(s(), r[0]), b.floats(s(), r[1]))
            .attr("num_bits", 8L).attr("narrow_range", narrow).build();
        OnnxCheck c = OnnxCheck.of(b).feed("x", rand.range(r[0] - 1, r[1] + 1, 9, 7)).outputs("args", "vars")
            .tol(TOL, TOL).run();
        assertEquals(2, c.count("QuantizeLinear"));
        assertEquals(2, c.count("DequantizeLinear"));
        assertEquals(narrow ? 2 : 0, c.count("Clip"));
      }
    }
  }

  @Test
  @Covers({"FakeQuantWithMinMaxVarsPerChannel"})
  void perChannelFakeQuantMatchesTensorFlow() {
    float[] lo = {-6f, -1f, 0f, -0.3f, 0.5f, -4f, -2f};
    float[] hi = {6f, 3f, 2.5f, 0.7f, 2f, -1f, 2f};
    for (boolean narrow : new boolean[] {false, true}) {
      TfBuilder b = new TfBuilder();
      Output<?> x = b.placeholder("x", F32, -1, 7);
      b.op("FakeQuantWithMinMaxVarsPerChannel").name("pc").in(x, b.floats(new long[] {7}, lo), b.floats(new long[] {7}, hi))
          .attr("num_bits", 8L).attr("narrow_range", narrow).build();
      OnnxCheck c = OnnxCheck.of(b).feed("x", rand.range(-7, 7, 9, 7)).outputs("pc").tol(TOL, TOL).run();
      assertEquals(1, c.count("QuantizeLinear"));
      assertEquals(narrow ? 1 : 0, c.count("Max"));
    }
  }

  @Test
  void aSymmetricFakeQuantIsInt8WithZeroPointZero() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 7);
    b.op("FakeQuantWithMinMaxArgs").name("sym").in(x).attr("min", -1.28f).attr("max", 1.27f).attr("num_bits", 8L).build();
    OnnxCheck c = OnnxCheck.of(b).feed("x", rand.range(-2, 2, 9, 7)).outputs("sym").tol(TOL, TOL).run();
    assertEquals(1, c.count("QuantizeLinear"));
    assertEquals(128f, Quantization.nudge(-1.28f, 1.27f, false)[1]);
    // TensorRT takes only int8 with zero point 0: the [-1.28, 1.27] range's zero point 128 becomes that
    var zp = c.model().getGraph().getInitializerList().stream().filter(t -> t.getName().endsWith("zero_point")).toList();
    assertEquals(1, zp.size());
    assertEquals(dev.tftrt.convert.onnx.TensorProto.DataType.INT8_VALUE, zp.get(0).getDataType());
    assertEquals(0, zp.get(0).getRawData().byteAt(0));
  }

  @Test
  void nudgingPutsZeroOnALevel() {
    float[] p = Quantization.nudge(-0.3f, 0.7f, false);
    assertEquals(1f / 255f, p[0], 1e-9);
    assertEquals(77f, p[1]); // round(0 - (-0.3) / (1/255)) = round(76.5) = 77
    assertEquals(-77f / 255f, p[2], 1e-7);
    float[] pos = Quantization.nudge(0.5f, 2f, true); // 0 < min: zero point clamps to qmin
    assertEquals(1f, pos[1]);
    assertEquals(0f, pos[2]);
  }

  @Test
  void fakeQuantRejections() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 7);
    b.op("FakeQuantWithMinMaxArgs").name("bits4").in(x).attr("num_bits", 4L).build();
    b.op("FakeQuantWithMinMaxArgs").name("empty").in(x).attr("min", 1f).attr("max", 1f).build();
    b.op("FakeQuantWithMinMaxVars").name("computed").in(x, b.placeholder("lo", F32), b.floats(s(), 1f)).build();
    assertEquals("num_bits is 4; only 8 converts to INT8 Q/DQ.", OnnxCheck.validate(b, "bits4").orElseThrow());
    assertEquals("min 1.0 is not below max 1.0.", OnnxCheck.validate(b, "empty").orElseThrow());
    assertEquals("its input 'min' must be a constant, and lo:0 is computed.", OnnxCheck.validate(b, "computed").orElseThrow());
  }

  private static void qdq(TfBuilder b, String op, String name, Output<?> x, float lo, float hi, boolean signed,
      boolean narrow, boolean rangeGiven) {
    TfBuilder.Node n = b.op(op).name(name);
    if (op.equals("QuantizeAndDequantizeV3")) {
      n.in(x, b.floats(s(), lo), b.floats(s(), hi), b.scalarInt(8));
    } else {
      n.in(x, b.floats(s(), lo), b.floats(s(), hi)).attr("num_bits", 8L);
    }
    n.attr("T", F32).attr("signed_input", signed).attr("range_given", rangeGiven).attr("narrow_range", narrow).build();
  }

  @Test
  @Covers({"QuantizeAndDequantizeV2", "QuantizeAndDequantizeV3", "QuantizeAndDequantizeV4"})
  void quantizeAndDequantizeWithAGivenRange() {
    for (String op : new String[] {"QuantizeAndDequantizeV2", "QuantizeAndDequantizeV3", "QuantizeAndDequantizeV4"}) {
      for (float[] r : new float[][] {{-1f, 3f}, {-2f, 0.5f}, {0f, 1.5f}, {-6f, 6f}}) {
        TfBuilder b = new TfBuilder();
        Output<?> x = b.placeholder("x", F32, -1, 6);
        qdq(b, op, "signed", x, r[0], r[1], true, false, true);
        qdq(b, op, "narrow", x, r[0], r[1], true, true, true);
        qdq(b, op, "unsigned", x, Math.max(r[0], 0f), r[1], false, false, true);
        OnnxCheck.of(b).feed("x", rand.range(r[0] - 1, r[1] + 1, 8, 6))
            .outputs("signed", "narrow", "unsigned").tol(TOL, TOL).run();
      }
    }
  }

  @Test
  @Covers({"QuantizeAndDequantizeV2", "QuantizeAndDequantizeV4"})
  void quantizeAndDequantizeOfAConstantTakesItsRange() {
    TfBuilder b = new TfBuilder();
    Output<?> w = b.constant(rand.range(-0.8, 1.9, 4, 5));
    Output<?> x = b.placeholder("x", F32, -1, 4);
    for (String op : new String[] {"QuantizeAndDequantizeV2", "QuantizeAndDequantizeV4"}) {
      qdq(b, op, op + "_w", w, 0f, 0f, true, false, false);
      b.op("MatMul").name(op).in(x, b.graph().operation(op + "_w").output(0)).attr("T", F32).build();
    }
    OnnxCheck c = OnnxCheck.of(b).feed("x", rand.floats(3, 4)).outputs("QuantizeAndDequantizeV2", "QuantizeAndDequantizeV4")
        .tol(1e-4, 1e-5).run();
    assertEquals(2, c.count("DequantizeLinear"));
  }

  @Test
  void quantizeAndDequantizeRejections() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 6);
    qdq(b, "QuantizeAndDequantizeV2", "dynamic", x, 0f, 0f, true, false, false);
    qdq(b, "QuantizeAndDequantizeV2", "zero", x, 0f, 0f, true, false, true);
    b.op("QuantizeAndDequantizeV3").name("bits").in(x, b.floats(s(), -1f), b.floats(s(), 1f), b.scalarInt(4))
        .attr("T", F32).attr("range_given", true).build();
    b.op("QuantizeAndDequantizeV4").name("axis").in(x, b.floats(s(6), new float[6]), b.floats(s(6), 1, 1, 1, 1, 1, 1))
        .attr("T", F32).attr("range_given", true).attr("axis", 1L).build();
    assertEquals("range_given is false, so the range is the input's own at run time; only a constant input converts.",
        OnnxCheck.validate(b, "dynamic").orElseThrow());
    assertEquals("the range [0.0, 0.0] holds no non-zero value to scale to.", OnnxCheck.validate(b, "zero").orElseThrow());
    assertEquals("num_bits is 4; only 8 converts to INT8 Q/DQ.", OnnxCheck.validate(b, "bits").orElseThrow());
    assertEquals("per-channel quantization (axis 1) is not supported.", OnnxCheck.validate(b, "axis").orElseThrow());
  }


  @Test
  @Covers("Dequantize")
  void dequantizedWeights() {
    byte[] bytes = new byte[12];
    for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) (i * 23 - 7);
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 4);
    String[] outs = new String[16];
    int k = 0;
    for (DataType dt : new DataType[] {DataType.DT_QUINT8, DataType.DT_QINT8}) {
      Output<?> q = b.quantizedConst("w_" + dt.name(), dt, s(4, 3), bytes);
      for (String mode : new String[] {"MIN_COMBINED", "SCALED", "MIN_FIRST"}) {
        for (float[] r : new float[][] {{-1.5f, 2f}, {0f, 6f}}) {
          if (mode.equals("SCALED") && r[0] == 0f && dt == DataType.DT_QINT8) continue;
          String name = dt.name() + "_" + mode + "_" + (int) r[0];
          Output<?> w = b.op("Dequantize").name(name + "_w").in(q, b.floats(s(), r[0]), b.floats(s(), r[1]))
              .attr("T", dt).attr("mode", mode).out();
          b.op("MatMul").name(name).in(x, w).attr("T", F32).build();
          if (k < outs.length) outs[k++] = name;
        }
      }
    }
    OnnxCheck c = OnnxCheck.of(b).feed("x", rand.floats(2, 4)).outputs(java.util.Arrays.copyOf(outs, k)).tol(1e-5, 1e-5).run();
    assertEquals(k, c.count("DequantizeLinear"));
  }
}
