package dev.tftrt.convert;

import dev.tftrt.convert.ops.StandardConverters;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tftrt.convert.passes.PruneUnusedPass;
import dev.tftrt.convert.passes.TransposeCancelPass;
import dev.tftrt.convert.passes.TransposePushPass;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;

/** Transposes move through layout-agnostic ops and cancel; outputs stay equal. */
class TransposePushTest {
  private static final DataType F32 = DataType.DT_FLOAT;
  private final Rand rand = new Rand(11);

  private Output<?> conv(TfBuilder b, String op, Output<?> x, long... f) {
    return b.op(op).in(x, b.constant(rand.floats(f))).attr("T", F32).attr("strides", new long[] {1, 1, 1, 1})
        .attr("padding", "SAME").out();
  }

  private Output<?> bnRelu6(TfBuilder b, Output<?> x, int c) {
    Output<?> y = b.op("FusedBatchNormV3").in(x, b.constant(rand.floats(c)), b.constant(rand.floats(c)),
        b.constant(rand.floats(c)), b.constant(rand.range(0.5, 2, c))).attr("T", F32).attr("U", F32)
        .attr("is_training", false).out();
    return b.op("Relu6").in(y).attr("T", F32).out();
  }

  /** MobileNetV2-style: conv-bn-relu6, depthwise-bn-relu6, project, residual add, concat, pad, mean. */
  private TfBuilder mobilenetBlock(boolean keepDims) {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, -1, 8, 8, 4);
    Output<?> e = bnRelu6(b, conv(b, "Conv2D", x, 1, 1, 4, 8), 8);
    Output<?> d = bnRelu6(b, conv(b, "DepthwiseConv2dNative", e, 3, 3, 8, 1), 8);
    Output<?> p = conv(b, "Conv2D", d, 1, 1, 8, 4);
    Output<?> r = b.op("AddV2").in(p, x).attr("T", F32).out();
    Output<?> s = b.op("Mul").in(r, b.floats(new long[] {4}, 1f, 2f, 3f, 4f)).attr("T", F32).out();
    Output<?> c = b.op("ConcatV2").in().inList(s, r).in(b.scalarInt(3)).attr("T", F32).attr("N", 2L).attr("Tidx", DataType.DT_INT32).out();
    Output<?> pad = b.op("Pad").in(c, b.constant(dev.tftrt.tensor.HostTensor.ofInts(new long[] {4, 2}, 0, 0, 1, 2, 0, 1, 0, 0)))
        .attr("T", F32).out();
    Output<?> q = conv(b, "Conv2D", pad, 3, 3, 8, 6);
    b.op("Mean").name("out").in(q, b.ints(1, 2)).attr("T", F32).attr("keep_dims", keepDims).build();
    return b;
  }

  @Test
  void chainOfLayersKeepsNoTransposesBetweenThem() {
    for (boolean keep : new boolean[] {true, false}) {
      TfBuilder b = mobilenetBlock(keep);
      OnnxCheck c = OnnxCheck.of(b).feed("x", rand.floats(2, 8, 8, 4)).outputs("out").tol(1e-4, 1e-4).run();
      // In, and out unless the mean drops H and W: the residual sum's transpose goes below both
      // its readers (Mul, then Concat reading Mul's output too).
      assertEquals(keep ? 2 : 1, c.count("Transpose"), OnnxCheck.describe(c.model()));
      OnnxCheck single = OnnxCheck.of(b).exporter(new OnnxExporter(StandardConverters.registry()).passes(List.of(TransposePushPass.singleReadersOnly(),
          new TransposeCancelPass(), new PruneUnusedPass()))).feed("x", rand.floats(2, 8, 8, 4)).outputs("out").tol(1e-4, 1e-4).run();
      assertEquals(keep ? 4 : 3, single.count("Transpose"), "below single readers only");
      assertEquals(c.count("Transpose"), OnnxExporter.countTransposes(c.model()));
      // Only cancelling direct pairs (the previous pass) leaves the ones around add/mul/concat/pad.
      OnnxCheck old = OnnxCheck.of(b).exporter(new OnnxExporter(StandardConverters.registry()).passes(List.of(new TransposeCancelPass(), new PruneUnusedPass())))
          .feed("x", rand.floats(2, 8, 8, 4)).outputs("out").tol(1e-4, 1e-4).run();
      assertEquals(true, old.count("Transpose") > c.count("Transpose"), "push pass helps: " + old.count("Transpose"));
    }
  }

  @Test
  void softmaxAndBroadcastConstantsArePermuted() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, 1, 5, 6, 3);
    Output<?> y = conv(b, "Conv2D", x, 3, 3, 3, 4);
    Output<?> z = b.op("Sub").in(b.constant(rand.floats(6, 1)), y).attr("T", F32).out();
    Output<?> s = b.op("Softmax").in(z).attr("T", F32).out();
    Output<?> m = b.op("Maximum").in(s, b.floats(new long[] {}, 0.1f)).attr("T", F32).out();
    conv(b, "Conv2D", m, 1, 1, 4, 2);
    b.op("Identity").name("out").in(b.graph().operation("conv2d_2").output(0)).attr("T", F32).build();
    OnnxCheck c = OnnxCheck.of(b).feed("x", rand.floats(1, 5, 6, 3)).outputs("out").tol(1e-4, 1e-5).run();
    assertEquals(2, c.count("Transpose"), OnnxCheck.describe(c.model()));
  }

  /**
   * DeepLab's head: upsampled logits read by ArgMax (predictions: expand, nearest resize,
   * squeeze) and Softmax (slice, bilinear resize). Left: the input's and the NHWC
   * probabilities'; the predictions are NHWC and NCHW alike.
   */
  @Test
  void segmentationHeadKeepsOnlyTheNhwcEnds() {
    TfBuilder b = new TfBuilder();
    Output<?> x = b.placeholder("x", F32, 1, 9, 9, 3);
    Output<?> l = b.op("BiasAdd").in(conv(b, "Conv2D", x, 1, 1, 3, 2), b.constant(rand.floats(2))).attr("T", F32).out();
    Output<?> up = b.op("ResizeBilinear").in(l, b.ints(17, 17)).attr("T", F32).attr("align_corners", true).out();
    Output<?> am = b.op("ArgMax").in(up, b.scalarInt(3)).attr("T", F32).attr("Tidx", DataType.DT_INT32)
        .attr("output_type", DataType.DT_INT64).out();
    Output<?> e = b.op("ExpandDims").in(am, b.scalarInt(-1)).attr("T", DataType.DT_INT64).attr("Tdim", DataType.DT_INT32).out();
    Output<?> f = b.op("Cast").in(e).attr("SrcT", DataType.DT_INT64).attr("DstT", F32).out();
    Output<?> n = b.op("ResizeNearestNeighbor").in(f, b.ints(33, 33)).attr("T", F32).attr("align_corners", true).out();
    Output<?> q = b.op("Squeeze").in(n).attr("T", F32).attr("squeeze_dims", new long[] {3}).out();
    b.op("Cast").name("predictions").in(q).attr("SrcT", F32).attr("DstT", DataType.DT_INT32).build();
    Output<?> sm = b.op("Softmax").in(up).attr("T", F32).out();
    Output<?> sl = b.op("Slice").in(sm, b.ints(0, 1, 0, 0), b.ints(1, 15, 16, 2)).attr("T", F32).attr("Index", DataType.DT_INT32).out();
    b.op("ResizeBilinear").name("probabilities").in(sl, b.ints(33, 33)).attr("T", F32).attr("align_corners", true).build();
    OnnxCheck c = OnnxCheck.of(b).feed("x", rand.floats(1, 9, 9, 3)).outputs("predictions", "probabilities")
        .tol(1e-4, 1e-5).run();
    assertEquals(2, c.count("Transpose"), OnnxCheck.describe(c.model()));
    OnnxCheck single = OnnxCheck.of(b).exporter(new OnnxExporter(StandardConverters.registry()).passes(List.of(TransposePushPass.singleReadersOnly(),
        new TransposeCancelPass(), new PruneUnusedPass()))).feed("x", rand.floats(1, 9, 9, 3))
        .outputs("predictions", "probabilities").tol(1e-4, 1e-5).run();
    assertEquals(true, single.count("Transpose") > 2, "below single readers only: " + single.count("Transpose"));
  }
}
