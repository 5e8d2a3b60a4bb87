package dev.tftrt.convert.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tftrt.convert.ConverterTest;
import dev.tftrt.convert.Covers;
import dev.tftrt.convert.OnnxCheck;
import dev.tftrt.convert.TfBuilder;
import org.junit.jupiter.api.Test;
import org.tensorflow.Output;

class NnTest extends ConverterTest {
  private static final float TOL = 1e-4f;

  private OnnxCheck conv(String op, long[] xShape, long[] fShape, String padding, long[] strides, long[] dil,
      boolean unknownSpatial) {
    TfBuilder b = new TfBuilder();
    long[] ph = xShape.clone();
    ph[0] = -1;
    if (unknownSpatial) for (int i = 1; i < ph.length - 1; i++) ph[i] = -1;
    Output<?> x = b.placeholder("x", F32, ph);
    TfBuilder.Node n = b.op(op).name("out").in(x, b.constant(rand.floats(fShape))).attr("T", F32)
        .attr("strides", strides).attr("padding", padding);
    if (dil != null) n.attr("dilations", dil);
    n.build();
    return OnnxCheck.of(b).feed("x", rand.floats(xShape)).outputs("out").tol(TOL, TOL);
  }

  @Test
  @Covers("Conv2D")
  void conv2d() {
    long[] one = s(1, 1, 1, 1);
    for (String pad : new String[] {"SAME", "VALID"}) {
      for (boolean unknown : new boolean[] {false, true}) {
        conv("Conv2D", s(2, 7, 8, 3), s(3, 3, 3, 4), pad, one, null, unknown).run();
        conv("Conv2D", s(1, 9, 7, 2), s(3, 2, 2, 5), pad, s(1, 2, 3, 1), null, unknown).run();
        if (!unknown || pad.equals("VALID")) {
          conv("Conv2D", s(1, 9, 9, 2), s(3, 3, 2, 3), pad, one, s(1, 2, 2, 1), unknown).run();
        }
      }
    }
    // grouped: 4 input channels, filter in-depth 2 -> 2 groups
    conv("Conv2D", s(1, 6, 6, 4), s(3, 3, 2, 6), "SAME", one, null, false).run();
  }

  @Test
  @Covers("Conv2D")
  void conv2dExplicitPaddingAndTransposesCancelBetweenConvs() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 8, 8, 3);
    Output<?> y = b.op("Conv2D").in(x, b.constant(rand.floats(3, 3, 3, 4))).attr("T", F32)
        .attr("strides", s(1, 1, 1, 1)).attr("padding", "EXPLICIT")
        .attr("explicit_paddings", s(0, 0, 1, 2, 0, 1, 0, 0)).out();
    b.op("Conv2D").name("out").in(y, b.constant(rand.floats(1, 1, 4, 2))).attr("T", F32)
        .attr("strides", s(1, 1, 1, 1)).attr("padding", "VALID").build();
    OnnxCheck c = OnnxCheck.of(b).feed("x", rand.floats(2, 8, 8, 3)).outputs("out").tol(TOL, TOL).run();
    assertEquals(2, c.count("Transpose"), OnnxCheck.class.getSimpleName());
  }

  @Test
  @Covers("DepthwiseConv2dNative")
  void depthwise() {
    for (String pad : new String[] {"SAME", "VALID"}) {
      conv("DepthwiseConv2dNative", s(2, 7, 7, 3), s(3, 3, 3, 2), pad, s(1, 1, 1, 1), null, false).run();
      conv("DepthwiseConv2dNative", s(1, 8, 8, 4), s(3, 3, 4, 1), pad, s(1, 2, 2, 1), null, true).run();
    }
  }

  @Test
  @Covers("Conv3D")
  void conv3d() {
    for (String pad : new String[] {"SAME", "VALID"}) {
      conv("Conv3D", s(1, 5, 6, 5, 2), s(3, 3, 2, 2, 3), pad, s(1, 1, 2, 1, 1), null, false).run();
    }
  }

  @Test
  @Covers({"MaxPool", "AvgPool", "MaxPool3D", "AvgPool3D"})
  void pooling() {
    for (String op : new String[] {"MaxPool", "AvgPool"}) {
      for (String pad : new String[] {"SAME", "VALID"}) {
        for (long[] k : new long[][] {s(1, 2, 2, 1), s(1, 3, 3, 1)}) {
          TfBuilder b = new TfBuilder();
          b.op(op).name("out").in(b.placeholder("x", F32, -1, 7, 6, 3)).attr("T", F32)
              .attr("ksize", k).attr("strides", s(1, 2, 2, 1)).attr("padding", pad).build();
          OnnxCheck.of(b).feed("x", rand.floats(2, 7, 6, 3)).outputs("out").tol(TOL, TOL).run();
        }
      }
    }
    for (String op : new String[] {"MaxPool3D", "AvgPool3D"}) {
      TfBuilder b = new TfBuilder();
      b.op(op).name("out").in(b.placeholder("x", F32, -1, 4, 5, 4, 2)).attr("T", F32)
          .attr("ksize", s(1, 2, 2, 2, 1)).attr("strides", s(1, 2, 2, 2, 1)).attr("padding", "SAME").build();
      OnnxCheck.of(b).feed("x", rand.floats(1, 4, 5, 4, 2)).outputs("out").tol(TOL, TOL).run();
    }
  }

  @Test
  @Covers("MaxPoolV2")
  void maxPoolV2TakesItsWindowFromConstantInputs() {
    for (String pad : new String[] {"SAME", "VALID"}) {
      TfBuilder b = new TfBuilder();
      b.op("MaxPoolV2").name("out").in(b.placeholder("x", F32, -1, 7, 6, 3), b.ints(1, 3, 3, 1), b.ints(1, 2, 2, 1))
          .attr("T", F32).attr("padding", pad).build();
      OnnxCheck.of(b).feed("x", rand.floats(2, 7, 6, 3)).outputs("out").tol(TOL, TOL).run();
    }
  }

  @Test
  @Covers({"MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"})
  void matmul() {
    for (boolean ta : new boolean[] {false, true}) {
      for (boolean tb : new boolean[] {false, true}) {
        TfBuilder b = new TfBuilder();
        Output<?> a = b.placeholder("a", F32, ta ? s(4, -1) : s(-1, 4));
        Output<?> w = b.constant(rand.floats(tb ? s(5, 4) : s(4, 5)));
        Output<?> y = b.op("MatMul").in(a, w).attr("T", F32).attr("transpose_a", ta).attr("transpose_b", tb).out();
        b.op("MatMul").name("out").in(y, b.placeholder("c", F32, 5, 2)).attr("T", F32).build();
        OnnxCheck.of(b).feed("a", rand.floats(ta ? s(4, 3) : s(3, 4))).feed("c", rand.floats(5, 2))
            .outputs("out").tol(TOL, TOL).run();
      }
    }
    for (String op : new String[] {"BatchMatMul", "BatchMatMulV2", "BatchMatMulV3"}) {
      TfBuilder b = new TfBuilder();
      TfBuilder.Node n = b.op(op).name("out").in(b.placeholder("x", F32, -1, 3, 4), b.placeholder("y", F32, 2, 5, 4))
          .attr("adj_x", false).attr("adj_y", true);
      if (op.equals("BatchMatMulV3")) n.attr("Ta", F32).attr("Tb", F32).attr("Tout", F32);
      else n.attr("T", F32);
      n.build();
      OnnxCheck.of(b).feed("x", rand.floats(2, 3, 4)).feed("y", rand.floats(2, 5, 4)).outputs("out").tol(TOL, TOL).run();
    }
  }

  @Test
  @Covers({"BiasAdd", "BiasAddV1", "Softmax", "LogSoftmax"})
  void biasAndSoftmax() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 3, 5);
    Output<?> y = b.op("BiasAdd").in(x, b.constant(rand.floats(5))).attr("T", F32).out();
    y = b.op("BiasAddV1").in(y, b.constant(rand.floats(5))).attr("T", F32).out();
    b.op("Softmax").name("sm").in(y).attr("T", F32).build();
    b.op("LogSoftmax").name("lsm").in(y).attr("T", F32).build();
    OnnxCheck.of(b).feed("x", rand.floats(2, 3, 5)).outputs("sm", "lsm").run();
  }

  @Test
  @Covers({"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"})
  void batchNormInference() {
    for (String op : new String[] {"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"}) {
      TfBuilder b = new TfBuilder();
      TfBuilder.Node n = b.op(op).name("bn").in(b.placeholder("x", F32, -1, 4, 4, 3),
          b.constant(rand.floats(3)), b.constant(rand.floats(3)), b.constant(rand.floats(3)),
          b.constant(rand.range(0.5, 2, 3))).attr("T", F32).attr("is_training", false).attr("epsilon", 0.001f);
      if (!op.equals("FusedBatchNorm")) n.attr("U", F32);
      n.build();
      OnnxCheck.of(b).feed("x", rand.floats(2, 4, 4, 3)).outputs("bn").tol(TOL, TOL).run();
    }
  }

  /**
   * Training mode (explicit, or is_training absent: TensorFlow's default is true) normalises
   * with the batch's own mean and variance; mean and variance inputs are unused (empty here, as
   * optimize_for_inference leaves them).
   */
  @Test
  @Covers({"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"})
  void batchNormTrainingUsesBatchStatistics() {
    for (String op : new String[] {"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"}) {
      for (String fmt : new String[] {"NHWC", "NCHW"}) {
        for (boolean explicit : new boolean[] {true, false}) {
          TfBuilder b = new TfBuilder();
          long[] shape = fmt.equals("NHWC") ? s(3, 5, 4, 3) : s(3, 3, 5, 4);
          long[] ph = shape.clone();
          ph[0] = -1;
          boolean avg = op.equals("FusedBatchNormV3") && explicit; // running averages need mean and variance
          long stats = avg ? 3 : 0;
          TfBuilder.Node n = b.op(op).name("bn").in(b.placeholder("x", F32, ph),
              b.constant(rand.range(0.5, 2, 3)), b.constant(rand.floats(3)), b.constant(rand.floats(stats)),
              b.constant(rand.range(0.5, 2, stats))).attr("T", F32).attr("epsilon", 0.001f).attr("data_format", fmt);
          if (explicit) n.attr("is_training", true);
          if (!op.equals("FusedBatchNorm")) n.attr("U", F32);
          if (avg) n.attr("exponential_avg_factor", 0.3f);
          n.build();
          OnnxCheck c = OnnxCheck.of(b).feed("x", rand.range(-2, 5, shape)).outputs("bn").tol(TOL, TOL).run();
          assertEquals(2, c.count("ReduceMean"), op + " " + fmt);
        }
      }
    }
  }

  @Test
  void batchNormRejections() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 4, 4, 3);
    org.tensorflow.GraphOperation stats = b.op("FusedBatchNormV3").name("stats").in(x, b.constant(rand.floats(3)),
        b.constant(rand.floats(3)), b.constant(rand.floats(0)), b.constant(rand.floats(0))).attr("T", F32).attr("U", F32)
        .attr("is_training", true).build();
    b.op("Identity").name("mean").in(stats.output(1)).attr("T", F32).build();
    b.op("FusedBatchNormV3").name("norank").in(b.placeholderUnknownRank("u", F32), b.constant(rand.floats(3)),
        b.constant(rand.floats(3)), b.constant(rand.floats(0)), b.constant(rand.floats(0))).attr("T", F32).attr("U", F32)
        .build();
    Output<?> v = b.placeholder("var", F32, 3);
    b.op("FusedBatchNormV3").name("computed").in(x, b.constant(rand.floats(3)), b.constant(rand.floats(3)),
        b.constant(rand.floats(3)), v).attr("T", F32).attr("U", F32).attr("is_training", false).build();
    assertEquals("its output 1 (batch statistics) is used; only output 0 converts.", OnnxCheck.validate(b, "stats").orElseThrow());
    assertEquals("is_training is true, and batch statistics need the input's rank.", OnnxCheck.validate(b, "norank").orElseThrow());
    assertEquals("its input 'variance' must be a constant, and var:0 is computed.", OnnxCheck.validate(b, "computed").orElseThrow());
  }

  @Test
  @Covers({"ResizeBilinear", "ResizeNearestNeighbor"})
  void resize() {
    for (String op : new String[] {"ResizeBilinear", "ResizeNearestNeighbor"}) {
      for (int mode = 0; mode < 3; mode++) {
        for (long[] size : new long[][] {s(8, 10), s(3, 2)}) {
          TfBuilder b = new TfBuilder();
          b.op(op).name("out").in(b.placeholder("x", F32, -1, 5, 4, 2), b.ints((int) size[0], (int) size[1]))
              .attr("T", F32).attr("align_corners", mode == 1).attr("half_pixel_centers", mode == 2).build();
          OnnxCheck.of(b).feed("x", rand.floats(1, 5, 4, 2)).outputs("out").tol(TOL, TOL).run();
        }
      }
    }
  }

  @Test
  void convRejections() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 8, 8, 3);
    b.op("Conv2D").name("computed").in(x, b.placeholder("w", F32, 3, 3, 3, 4)).attr("T", F32)
        .attr("strides", s(1, 1, 1, 1)).attr("padding", "SAME").build();
    b.op("Conv2D").name("nchw").in(x, b.constant(rand.floats(3, 3, 8, 4))).attr("T", F32)
        .attr("strides", s(1, 1, 1, 1)).attr("padding", "SAME").attr("data_format", "NCHW").build();
    b.op("MaxPool").name("chpool").in(x).attr("T", F32).attr("ksize", s(1, 1, 1, 3))
        .attr("strides", s(1, 1, 1, 3)).attr("padding", "VALID").build();
    b.op("Conv2D").name("dilated").in(b.placeholder("y", F32, -1, -1, -1, 3), b.constant(rand.floats(3, 3, 3, 4)))
        .attr("T", F32).attr("strides", s(1, 1, 1, 1)).attr("dilations", s(1, 2, 2, 1)).attr("padding", "SAME").build();
    assertEquals("SAME padding with dilations needs the spatial input size, and it is unknown.",
        OnnxCheck.validate(b, "dilated").orElseThrow());
    assertEquals("its input 'filter' must be a constant or a Dequantize of constants, and w:0 is computed.", OnnxCheck.validate(b, "computed").orElseThrow());
    assertEquals("data_format NCHW is not supported; only channels-last is.", OnnxCheck.validate(b, "nchw").orElseThrow());
    assertEquals("ksize [1, 1, 1, 3] pools over batch or channels, which ONNX cannot express.",
        OnnxCheck.validate(b, "chpool").orElseThrow());
  }
}
