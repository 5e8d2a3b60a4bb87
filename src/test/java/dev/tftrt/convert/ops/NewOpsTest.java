package dev.tftrt.convert.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.convert.ConverterRegistry;
import dev.tftrt.convert.ConverterTest;
import dev.tftrt.convert.Covers;
import dev.tftrt.convert.OnnxCheck;
import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.convert.TfBuilder;
import dev.tftrt.tensor.HostTensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;

/** Deconvolution, space/batch reshuffles, logical reductions, GELU patterns, side effects. */
class NewOpsTest extends ConverterTest {
  private static final double TOL = 1e-4;

  @Test
  @Covers("Conv2DBackpropInput")
  void conv2dBackpropInput() {
    // {H, W, kh, kw, stride h, stride w}
    long[][] cases = {{8, 8, 3, 3, 2, 2}, {7, 9, 3, 2, 2, 3}, {6, 6, 2, 2, 2, 2}, {5, 5, 3, 3, 1, 1}, {9, 8, 4, 3, 3, 2}};
    for (String pad : new String[] {"SAME", "VALID"}) {
      for (long[] c : cases) {
        long ih = pad.equals("SAME") ? (c[0] + c[4] - 1) / c[4] : (c[0] - c[2] + c[4]) / c[4];
        long iw = pad.equals("SAME") ? (c[1] + c[5] - 1) / c[5] : (c[1] - c[3] + c[5]) / c[5];
        TfBuilder b = new TfBuilder();
        Output<?> dy = b.placeholder("dy", F32, -1, ih, iw, 4);
        b.op("Conv2DBackpropInput").name("out").in(b.ints(2, (int) c[0], (int) c[1], 3),
            b.constant(rand.floats(c[2], c[3], 3, 4)), dy).attr("T", F32)
            .attr("strides", s(1, c[4], c[5], 1)).attr("padding", pad).build();
        OnnxCheck.of(b).feed("dy", rand.floats(2, ih, iw, 4)).outputs("out").tol(TOL, TOL).run();
      }
    }
    // dilated, stride 1
    TfBuilder b = new TfBuilder();
    b.op("Conv2DBackpropInput").name("out").in(b.ints(1, 9, 9, 2), b.constant(rand.floats(3, 3, 2, 3)),
        b.placeholder("dy", F32, 1, 9, 9, 3)).attr("T", F32).attr("strides", s(1, 1, 1, 1))
        .attr("dilations", s(1, 2, 2, 1)).attr("padding", "SAME").build();
    OnnxCheck.of(b).feed("dy", rand.floats(1, 9, 9, 3)).outputs("out").tol(TOL, TOL).run();
  }

  /**
   * Keras' Conv2DTranspose with an unknown batch: input_sizes = Pack(Shape(x)[0], h, w, c).
   * The ONNX takes the batch from its input, so it is right at every batch size.
   */
  @Test
  @Covers("Conv2DBackpropInput")
  void conv2dBackpropInputWithComputedSizes() {
    for (String pad : new String[] {"SAME", "VALID"}) {
      TfBuilder b = new TfBuilder();
      Output<?> dy = b.placeholder("dy", F32, -1, 4, 5, 4);
      Output<?> shape = b.op("Shape").in(dy).attr("T", F32).attr("out_type", I32).out();
      Output<?> batch = b.op("StridedSlice").in(shape, b.ints(0), b.ints(1), b.ints(1)).attr("T", I32)
          .attr("Index", I32).attr("shrink_axis_mask", 1L).out();
      long h = pad.equals("SAME") ? 8 : 9;
      long w = pad.equals("SAME") ? 10 : 11;
      Output<?> sizes = b.op("Pack").in().inList(batch, b.scalarInt((int) h), b.scalarInt((int) w), b.scalarInt(3))
          .attr("T", I32).attr("N", 4L).out();
      b.op("Conv2DBackpropInput").name("out").in(sizes, b.constant(rand.floats(3, 3, 3, 4)), dy).attr("T", F32)
          .attr("strides", s(1, 2, 2, 1)).attr("padding", pad).build();
      assertEquals(java.util.Optional.empty(), OnnxCheck.validate(b, "out"));
      for (long n : new long[] {1, 3}) {
        OnnxCheck.of(b).feed("dy", rand.floats(n, 4, 5, 4)).outputs("out").tol(TOL, TOL).run();
      }
    }
  }

  @Test
  void conv2dBackpropInputRejections() {
    TfBuilder b = new TfBuilder();
    Output<?> dy = b.placeholder("dy", F32, 1, 4, 4, 4);
    b.op("Conv2DBackpropInput").name("sizes").in(b.placeholder("s", I32, 4), b.constant(rand.floats(3, 3, 3, 4)), dy)
        .attr("T", F32).attr("strides", s(1, 2, 2, 1)).attr("padding", "SAME").build();
    b.op("Conv2DBackpropInput").name("mismatch").in(b.ints(1, 8, 8, 3), b.constant(rand.floats(3, 3, 3, 4)), dy)
        .attr("T", F32).attr("strides", s(1, 1, 1, 1)).attr("padding", "SAME").build();
    b.op("Conv2DBackpropInput").name("explicit").in(b.ints(1, 8, 8, 3), b.constant(rand.floats(3, 3, 3, 4)), dy)
        .attr("T", F32).attr("strides", s(1, 2, 2, 1)).attr("padding", "EXPLICIT")
        .attr("explicit_paddings", s(0, 0, 1, 1, 1, 1, 0, 0)).build();
    assertEquals("input_sizes is computed, and TensorFlow's shape inference leaves the output's height, width or depth unknown"
        + " (give the input's shape with --shape).", OnnxCheck.validate(b, "sizes").orElseThrow());
    assertEquals("out_backprop's spatial size 4 does not match input_sizes (expected 8).", OnnxCheck.validate(b, "mismatch").orElseThrow());
    assertEquals("padding EXPLICIT is not supported; only SAME and VALID are.", OnnxCheck.validate(b, "explicit").orElseThrow());
  }

  private static Output<?> s2b(TfBuilder b, String name, Output<?> x, int[] block, int... pads) {
    return b.op("SpaceToBatchND").name(name).in(x, b.ints(block), b.constant(HostTensor.ofInts(s(block.length, 2), pads)))
        .attr("T", F32).out();
  }

  private static Output<?> b2s(TfBuilder b, String name, Output<?> x, int[] block, int... crops) {
    return b.op("BatchToSpaceND").name(name).in(x, b.ints(block), b.constant(HostTensor.ofInts(s(block.length, 2), crops)))
        .attr("T", F32).out();
  }

  @Test
  @Covers({"SpaceToBatchND", "BatchToSpaceND"})
  void spaceToBatchAndBack() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 6, 5, 3);
    s2b(b, "s2b", x, new int[] {2, 3}, 1, 1, 0, 1);
    s2b(b, "nopad", x, new int[] {3, 1}, 0, 0, 0, 0);
    b2s(b, "b2s", b.placeholder("y", F32, -1, 3, 2, 2), new int[] {2, 2}, 1, 0, 0, 2);
    OnnxCheck.of(b).feed("x", rand.floats(2, 6, 5, 3)).feed("y", rand.floats(8, 3, 2, 2))
        .outputs("s2b", "nopad", "b2s").run();
    // 1 spatial dimension
    TfBuilder c = new TfBuilder();
    Output<?> z = s2b(c, "s2b1", c.placeholder("x", F32, 1, 7, 2), new int[] {3}, 1, 1);
    b2s(c, "b2s1", z, new int[] {3}, 1, 1);
    OnnxCheck.of(c).feed("x", rand.floats(1, 7, 2)).outputs("s2b1", "b2s1").run();
  }

  /** The dilated convolution TensorFlow builds with space_to_batch, as DeepLab's graph holds it. */
  @Test
  @Covers({"SpaceToBatchND", "BatchToSpaceND", "DepthwiseConv2dNative", "Conv2D"})
  void dilatedConvolutionPattern() {
    for (int rate : new int[] {2, 4}) {
      TfBuilder b = new TfBuilder();
      Output<?> x = b.placeholder("x", F32, 1, 17, 17, 4);
      int pb = rate;
      int total = 17 + 2 * rate;
      int pe = rate + (rate - total % rate) % rate;
      int crop = pe - rate;
      Output<?> y = b.op("Conv2D").in(x, b.constant(rand.floats(1, 1, 4, 4))).attr("T", F32)
          .attr("strides", s(1, 1, 1, 1)).attr("padding", "SAME").out();
      Output<?> z = s2b(b, "s2b", y, new int[] {rate, rate}, pb, pe, pb, pe);
      z = b.op("DepthwiseConv2dNative").in(z, b.constant(rand.floats(3, 3, 4, 1))).attr("T", F32)
          .attr("strides", s(1, 1, 1, 1)).attr("padding", "VALID").out();
      z = b2s(b, "b2s", z, new int[] {rate, rate}, 0, crop, 0, crop);
      b.op("Conv2D").name("out").in(z, b.constant(rand.floats(1, 1, 4, 2))).attr("T", F32)
          .attr("strides", s(1, 1, 1, 1)).attr("padding", "SAME").build();
      OnnxCheck c = OnnxCheck.of(b).feed("x", rand.floats(1, 17, 17, 4)).outputs("out").tol(TOL, TOL).run();
      // fused into one dilated convolution: only the network's own layout change in and out
      assertEquals(2, c.count("Transpose"), "transposes left");
      assertEquals(0, c.count("Pad") + c.count("Reshape") + c.count("Slice"));
      // with the inner tensor also an output, the pattern is not fused and still matches
      OnnxCheck.of(b).feed("x", rand.floats(1, 17, 17, 4)).outputs("out", "s2b").tol(TOL, TOL).run();
    }
  }

  @Test
  void spaceBatchRejections() {
    TfBuilder b = new TfBuilder();
    s2b(b, "rank", b.placeholderUnknownRank("r", F32), new int[] {2, 2}, 0, 0, 0, 0);
    s2b(b, "rank5", b.placeholder("r5", F32, 1, 2, 2, 2, 3), new int[] {2, 2}, 0, 0, 0, 0);
    s2b(b, "unknown", b.placeholder("u", F32, -1, -1, 5, 3), new int[] {2, 2}, 0, 0, 0, 1);
    assertEquals("its input's rank is unknown.", OnnxCheck.validate(b, "rank").orElseThrow());
    assertEquals("its input has rank 5; only [batch, 2 spatial, channels] is supported.", OnnxCheck.validate(b, "rank5").orElseThrow());
    assertEquals("it needs the input's spatial and channel sizes, and float32[?,?,5,3] is not known there.",
        OnnxCheck.validate(b, "unknown").orElseThrow());
  }

  @Test
  @Covers({"All", "Any"})
  void logicalReductions() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", DataType.DT_BOOL, -1, 3, 4);
    b.op("All").name("all").in(x, b.ints(1)).attr("Tidx", I32).build();
    b.op("Any").name("any").in(x, b.ints(-1, 0)).attr("Tidx", I32).attr("keep_dims", true).build();
    b.op("All").name("none").in(x, b.constant(HostTensor.ofInts(s(0)))).attr("Tidx", I32).build();
    OnnxCheck.of(b).feed("x", rand.bools(2, 3, 4)).outputs("all", "any", "none").run();
  }

  /** GELU has no TensorFlow op before 2.4 graphs; both forms convert op by op. */
  @Test
  @Covers({"Erf", "RealDiv", "AddV2", "Mul"})
  void geluErfForm() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 16);
    Output<?> e = b.op("Erf").in(b.op("RealDiv").in(x, b.floats(s(), (float) Math.sqrt(2))).attr("T", F32).out())
        .attr("T", F32).out();
    Output<?> one = b.op("AddV2").in(b.floats(s(), 1f), e).attr("T", F32).out();
    Output<?> half = b.op("Mul").in(x, b.floats(s(), 0.5f)).attr("T", F32).out();
    b.op("Mul").name("gelu").in(half, one).attr("T", F32).build();
    OnnxCheck.of(b).feed("x", rand.range(-5, 5, 3, 16)).outputs("gelu").tol(1e-5, 1e-6).run();
  }

  @Test
  @Covers({"Tanh", "Pow", "AddV2", "Mul"})
  void geluTanhApproximation() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 16);
    Output<?> cube = b.op("Pow").in(x, b.floats(s(), 3f)).attr("T", F32).out();
    Output<?> inner = b.op("AddV2").in(x, b.op("Mul").in(b.floats(s(), 0.044715f), cube).attr("T", F32).out())
        .attr("T", F32).out();
    Output<?> t = b.op("Tanh").in(b.op("Mul").in(b.floats(s(), (float) Math.sqrt(2 / Math.PI)), inner).attr("T", F32).out())
        .attr("T", F32).out();
    Output<?> one = b.op("AddV2").in(b.floats(s(), 1f), t).attr("T", F32).out();
    b.op("Mul").name("gelu").in(b.op("Mul").in(b.floats(s(), 0.5f), x).attr("T", F32).out(), one).attr("T", F32).build();
    OnnxCheck.of(b).feed("x", rand.range(-5, 5, 3, 16)).outputs("gelu").tol(1e-5, 1e-6).run();
  }

  @Test
  void sideEffectsAreNeverCandidates() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 4);
    Output<?> ok = b.op("Less").in(x, b.floats(s(), 10f)).attr("T", F32).out();
    Output<?> all = b.op("All").in(ok, b.ints(0, 1)).attr("Tidx", I32).out();
    b.op("Assert").name("check").in(all).inList(x).attr("T", new DataType[] {F32}).build();
    b.op("NoOp").name("noop").build();
    assertEquals("Assert is a run-time check with a side effect (failing the step), so it stays in TensorFlow.",
        OnnxCheck.validate(b, "check").orElseThrow());
    assertEquals("NoOp only orders other nodes through control edges and computes nothing to convert.",
        OnnxCheck.validate(b, "noop").orElseThrow());
    assertTrue(StandardConverters.registry().opTypes().stream().noneMatch(o -> o.equals("Assert") || o.equals("NoOp")));
    dev.tftrt.convert.BaseConverter assertConverter = new dev.tftrt.convert.BaseConverter() {
      {
        register(dev.tftrt.convert.Signature.builder().tensor("input").build(), "Assert");
      }

      @Override
      public void convert(dev.tftrt.convert.NodeView n, dev.tftrt.convert.OnnxEmitter out) {}
    };
    IllegalStateException ex = assertThrows(IllegalStateException.class, () -> new ConverterRegistry(List.of(assertConverter)));
    assertTrue(ex.getMessage().startsWith("Assert has side effects"), ex.getMessage());
  }

  @Test
  @Covers({"Reshape", "Shape", "StridedSlice", "Pack", "ResizeBilinear"})
  void computedShapesAndSizes() {
    for (int opset : new int[] {13, 17}) {
      TfBuilder b = new TfBuilder();
      Output<?> x = b.placeholder("x", F32, -1, 12);
      Output<?> shape = b.op("Shape").in(x).attr("T", F32).attr("out_type", I32).out();
      Output<?> batch = b.op("StridedSlice").in(shape, b.ints(0), b.ints(1), b.ints(1)).attr("T", I32).attr("Index", I32)
          .attr("shrink_axis_mask", 1L).out();
      Output<?> target = b.op("Pack").in().inList(batch, b.scalarInt(3), b.scalarInt(4)).attr("T", I32).attr("N", 3L).out();
      Output<?> r = b.op("Reshape").name("reshaped").in(x, target).attr("T", F32).out();
      Output<?> img = b.op("ExpandDims").in(r, b.scalarInt(-1)).attr("T", F32).out();
      Output<?> size = b.op("StridedSlice").in(b.ints(1, 6, 8, 1), b.ints(1), b.ints(3), b.ints(1)).attr("T", I32)
          .attr("Index", I32).out();
      b.op("ResizeBilinear").name("resized").in(img, size).attr("T", F32).attr("half_pixel_centers", true).build();
      OnnxCheck.of(b).exporter(new OnnxExporter(StandardConverters.registry()).opset(opset)).feed("x", rand.floats(2, 12))
          .outputs("reshaped", "resized").tol(TOL, TOL).run();
    }
  }
}
