package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.HostArrays;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import dev.tftrt.graph.TensorInfo;
import dev.tftrt.tensor.HostTensor;
import java.util.Arrays;
import java.util.Optional;

/**
 * Conv2DBackpropInput (a "deconvolution", NHWC, SAME or VALID) as ONNX ConvTranspose. The
 * output size comes from input_sizes: the forward convolution's padding is recomputed from it,
 * and the rows TensorFlow leaves over at the end become output_padding. input_sizes may be
 * computed (Keras' Conv2DTranspose packs the batch read from Shape with constant height, width
 * and depth): its height, width and depth are then taken from TensorFlow's shape inference of
 * the output, and the batch needs nothing, since ConvTranspose's output batch is its input's.
 */
public final class ConvTranspose extends BaseConverter {
  public ConvTranspose() {
    register(Signature.builder().tensor("input_sizes").weight("filter").tensor("out_backprop")
        .types("T", Signature.FLOATS).build(), "Conv2DBackpropInput");
  }

  /** Per spatial dimension: input size of the transposed conv, pads, output padding. */
  private record Plan(long[] in, long[] pads, long[] outputPadding) {}

  /**
   * input_sizes: the constant's values, or (computed) the inferred output shape, whose batch
   * may be unknown; null when a computed one leaves height, width or depth unknown.
   */
  private static long[] sizes(NodeView n) {
    if (n.isConstant(0)) return n.constantLongs(0);
    TensorInfo o = n.outputInfo(0);
    if (!o.hasRank() || o.rank() != 4) return null;
    for (int i = 1; i < 4; i++) if (o.dim(i) < 0) return null;
    return o.dims();
  }

  private static Plan plan(NodeView n) {
    long[] sizes = sizes(n);
    long[] fs = n.constant(1).orElseThrow().shape();
    long[] strides = Convolution.spatialOf(n.attrInts("strides", null), 2);
    long[] dil = Convolution.spatialOf(n.attrInts("dilations", null), 2);
    boolean same = n.attrString("padding", "VALID").equals("SAME");
    long[] in = new long[2];
    long[] pads = new long[4];
    long[] outPad = new long[2];
    for (int i = 0; i < 2; i++) {
      long h = sizes[1 + i];
      long s = strides[i];
      long keff = (fs[i] - 1) * dil[i] + 1;
      in[i] = same ? (h + s - 1) / s : (h - keff + s) / s;
      long total = same ? Math.max((in[i] - 1) * s + keff - h, 0) : 0;
      pads[i] = total / 2;
      pads[2 + i] = total - total / 2;
      outPad[i] = h - ((in[i] - 1) * s + keff - total);
    }
    return new Plan(in, pads, outPad);
  }

  @Override
  protected Optional<String> check(NodeView n) {
    String fmt = n.attrString("data_format", "NHWC");
    if (!fmt.equals("NHWC")) return reject("data_format " + fmt + " is not supported; only NHWC is.");
    String pad = n.attrString("padding", "VALID");
    if (!pad.equals("SAME") && !pad.equals("VALID")) return reject("padding " + pad + " is not supported; only SAME and VALID are.");
    long[] sizes = sizes(n);
    if (sizes == null) {
      return reject("input_sizes is computed, and TensorFlow's shape inference leaves the output's height, width or depth unknown"
          + " (give the input's shape with --shape).");
    }
    if (sizes.length != 4) return reject("input_sizes must hold 4 values.");
    for (int i = 1; i < 4; i++) if (sizes[i] <= 0) return reject("input_sizes " + Arrays.toString(sizes) + " has a non-positive size.");
    HostTensor f = n.constant(1).orElseThrow();
    if (f.rank() != 4) return reject("its filter has rank " + f.rank() + ", not 4.");
    if (f.shape()[2] != sizes[3]) return reject("the filter's input depth " + f.shape()[2] + " is not input_sizes' " + sizes[3] + ".");
    for (String a : new String[] {"strides", "dilations"}) {
      long[] v = n.attrInts(a, null);
      if (v == null) continue;
      if (v.length != 4 || v[0] != 1 || v[3] != 1) return reject(a + " " + Arrays.toString(v) + " must be 1 along batch and channels.");
    }
    Plan p = plan(n);
    long[] strides = Convolution.spatialOf(n.attrInts("strides", null), 2);
    long[] dil = Convolution.spatialOf(n.attrInts("dilations", null), 2);
    long[] got = n.inputInfo(2).dims();
    for (int i = 0; i < 2; i++) {
      if (p.in()[i] <= 0) return reject("input_sizes is smaller than the filter.");
      if (p.outputPadding()[i] < 0 || p.outputPadding()[i] >= Math.max(strides[i], dil[i])) {
        return reject("input_sizes does not match any output padding ONNX can express.");
      }
      if (got != null && got.length == 4 && got[1 + i] >= 0 && got[1 + i] != p.in()[i]) {
        return reject("out_backprop's spatial size " + got[1 + i] + " does not match input_sizes (expected " + p.in()[i] + ").");
      }
    }
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    HostTensor f = n.constant(1).orElseThrow();
    long[] fs = f.shape(); // [kh, kw, in_ch (output of this op), out_ch (its input)]
    HostTensor w = HostArrays.transpose(f, 3, 2, 0, 1); // [out_ch, in_ch, kh, kw]
    Plan p = plan(n);
    String x = Layout.nchw(out, out.input(n, 2), 4);
    String y = out.node("ConvTranspose").in(x, out.constant(n.name() + "/filter", w))
        .attr("kernel_shape", new long[] {fs[0], fs[1]})
        .attr("strides", Convolution.spatialOf(n.attrInts("strides", null), 2))
        .attr("dilations", Convolution.spatialOf(n.attrInts("dilations", null), 2))
        .attr("pads", p.pads()).attr("output_padding", p.outputPadding()).emit();
    Layout.nhwc(out, y, 4, out.output(n, 0));
  }
}
