package dev.tftrt.convert.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tftrt.convert.ConverterTest;
import dev.tftrt.convert.Covers;
import dev.tftrt.convert.OnnxCheck;
import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.convert.TfBuilder;
import dev.tftrt.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;

class ReduceCastPadTest extends ConverterTest {
  @Test
  @Covers({"Mean", "Sum", "Max", "Min", "Prod", "ArgMax", "ArgMin"})
  void reductions() {
    for (int opset : new int[] {13, 17, 18}) {
      TfBuilder b = new TfBuilder();
      Output<?> x = b.placeholder("x", F32, -1, 4, 5);
      String[] outs = {"Mean", "Sum", "Max", "Min", "Prod"};
      for (String op : outs) {
        b.op(op).name(op).in(x, b.ints(1, -1)).attr("T", F32).attr("Tidx", I32).attr("keep_dims", op.equals("Sum")).build();
        b.op(op).name(op + "_none").in(x, b.constant(HostTensor.ofInts(s(0)))).attr("T", F32).attr("Tidx", I32).build();
      }
      b.op("ArgMax").name("argmax").in(x, b.scalarInt(-1)).attr("T", F32).attr("Tidx", I32).attr("output_type", I32).build();
      b.op("ArgMin").name("argmin").in(x, b.scalarInt(1)).attr("T", F32).attr("Tidx", I32)
          .attr("output_type", DataType.DT_INT64).build();
      OnnxCheck.of(b).exporter(new OnnxExporter(StandardConverters.registry()).opset(opset)).feed("x", rand.floats(2, 4, 5))
          .outputs("Mean", "Sum", "Max", "Min", "Prod", "Mean_none", "Sum_none", "argmax", "argmin").tol(1e-5, 1e-6).run();
    }
    TfBuilder b = new TfBuilder();
    b.op("Sum").name("isum").in(b.placeholder("x", I32, 3, 4), b.scalarInt(0)).attr("T", I32).attr("Tidx", I32).build();
    OnnxCheck.of(b).feed("x", rand.ints(-9, 9, 3, 4)).outputs("isum").run();
  }

  @Test
  @Covers("Cast")
  void casts() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 4);
    b.op("Cast").name("toint").in(x).attr("SrcT", F32).attr("DstT", I32).build();
    b.op("Cast").name("tobool").in(x).attr("SrcT", F32).attr("DstT", DataType.DT_BOOL).build();
    Output<?> i = b.op("Cast").in(x).attr("SrcT", F32).attr("DstT", DataType.DT_INT64).out();
    b.op("Cast").name("back").in(i).attr("SrcT", DataType.DT_INT64).attr("DstT", F32).build();
    HostTensor v = HostTensor.ofFloats(s(2, 4), -2.7f, -0.5f, 0f, 0.4f, 1.5f, 2.9f, -0f, 7f);
    OnnxCheck.of(b).feed("x", v).outputs("toint", "tobool", "back").run();
  }

  /**
   * Out-of-range floats cast to 8 bits saturate in TensorFlow's (vectorized) kernel, and wrap in
   * ONNX Runtime's Cast unless the ONNX clips first: 360.0 is 255 in TensorFlow, 104 wrapped.
   */
  @Test
  @Covers("Cast")
  void castsToEightBitsSaturateAsTensorFlowDoes() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 64);
    b.op("Cast").name("u8").in(x).attr("SrcT", F32).attr("DstT", DataType.DT_UINT8).build();
    // TF Java cannot fetch int8, so it is read back as int32 (an exact cast)
    Output<?> i8 = b.op("Cast").in(x).attr("SrcT", F32).attr("DstT", DataType.DT_INT8).out();
    b.op("Cast").name("i8").in(i8).attr("SrcT", DataType.DT_INT8).attr("DstT", I32).build();
    Output<?> h = b.placeholder("h", DataType.DT_HALF, -1, 64);
    b.op("Cast").name("h8").in(h).attr("SrcT", DataType.DT_HALF).attr("DstT", DataType.DT_UINT8).build();
    OnnxCheck.of(b).feed("x", rand.range(-300, 600, 128, 64)).feed("h", rand.uniform(DataType.DT_HALF, s(128, 64), -300, 600))
        .outputs("u8", "i8", "h8").run();
  }

  @Test
  @Covers({"Pad", "PadV2", "MirrorPad"})
  void pads() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 4, 5);
    Output<?> p = b.constant(HostTensor.ofInts(s(3, 2), 0, 0, 1, 2, 2, 1));
    b.op("Pad").name("pad").in(x, p).attr("T", F32).attr("Tpaddings", I32).build();
    b.op("PadV2").name("pad2").in(x, p, b.constant(HostTensor.ofFloats(s(), -3f))).attr("T", F32).attr("Tpaddings", I32).build();
    b.op("MirrorPad").name("mirror").in(x, p).attr("T", F32).attr("Tpaddings", I32).attr("mode", "REFLECT").build();
    b.op("MirrorPad").name("sym").in(x, p).attr("T", F32).attr("Tpaddings", I32).attr("mode", "SYMMETRIC").build();
    OnnxCheck.of(b).feed("x", rand.floats(2, 4, 5)).outputs("pad", "pad2", "mirror").run();
    assertEquals("MirrorPad mode SYMMETRIC has no ONNX equivalent; only REFLECT converts.",
        OnnxCheck.validate(b, "sym").orElseThrow());
    b.op("Cast").name("trunc").in(x).attr("SrcT", F32).attr("DstT", DataType.DT_HALF).attr("Truncate", true).build();
    assertEquals("Truncate=true casts are not supported.", OnnxCheck.validate(b, "trunc").orElseThrow());
  }
}
