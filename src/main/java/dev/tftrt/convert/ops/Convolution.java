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
import java.util.function.UnaryOperator;

/**
 * Conv2D, Conv3D and DepthwiseConv2dNative. Filters are constants, or 8-bit constants behind a
 * Dequantize (kept 8-bit: see {@link Weights}), re-laid out once at conversion time (HWIO ->
 * OIHW); channels-last inputs are transposed around the ONNX Conv.
 * SAME padding becomes explicit pads when the spatial size is known, else auto_pad SAME_UPPER
 * (both put the odd pixel at the end, as TensorFlow does).
 */
public final class Convolution extends BaseConverter {
  public Convolution() {
    Signature s = Signature.builder().tensor("input").dequantizedWeight("filter").types("T", Signature.FLOATS).build();
    register(s, "Conv2D", "Conv3D", "DepthwiseConv2dNative");
  }

  private static int spatial(NodeView n) {
    return n.op().equals("Conv3D") ? 3 : 2;
  }

  @Override
  protected Optional<String> check(NodeView n) {
    int sp = spatial(n);
    int rank = sp + 2;
    Optional<String> layout = Layout.checkChannelsLastInput(n, sp);
    if (layout.isPresent()) return layout;
    TensorInfo in = n.inputInfo(0);
    Optional<String> weight = Weights.check(n, 1);
    if (weight.isPresent()) return weight;
    HostTensor f = Weights.values(n, 1).orElseThrow();
    if (f.rank() != rank) return reject("its filter has rank " + f.rank() + ", not " + rank + ".");
    for (String a : new String[] {"strides", "dilations"}) {
      long[] v = n.attrInts(a, null);
      if (v == null) continue;
      if (v.length != rank) return reject(a + " has " + v.length + " values, not " + rank + ".");
      if (v[0] != 1 || v[rank - 1] != 1) {
        return reject(a + " " + Arrays.toString(v) + " move along batch or channels, which ONNX cannot express.");
      }
    }
    String pad = n.attrString("padding", "VALID");
    if (!pad.equals("SAME") && !pad.equals("VALID") && !pad.equals("EXPLICIT")) {
      return reject("padding " + pad + " is not supported.");
    }
    long[] dil = n.attrInts("dilations", null);
    if (pad.equals("SAME") && dil != null && Arrays.stream(dil).anyMatch(d -> d != 1)) {
      for (int i = 1; i <= sp; i++) {
        if (in.dim(i) < 0) {
          return reject("SAME padding with dilations needs the spatial input size, and it is unknown.");
        }
      }
    }
    if (pad.equals("EXPLICIT")) {
      long[] p = n.attrInts("explicit_paddings", new long[0]);
      if (p.length != 2 * rank || p[0] != 0 || p[1] != 0 || p[2 * rank - 2] != 0 || p[2 * rank - 1] != 0) {
        return reject("explicit_paddings must pad only spatial dimensions.");
      }
    }
    if (!n.op().startsWith("Depthwise")) {
      long cin = in.hasRank() ? in.dim(rank - 1) : -1;
      long fin = f.shape()[sp];
      if (cin > 0 && cin % fin != 0) {
        return reject("its input has " + cin + " channels, not a multiple of the filter's " + fin + ".");
      }
    }
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    int sp = spatial(n);
    int rank = sp + 2;
    long[] fs = Weights.values(n, 1).orElseThrow().shape(); // [k..., in, out] (depthwise: [k..., C, M])
    long[] kernel = Arrays.copyOf(fs, sp);
    long group = 1;
    UnaryOperator<HostTensor> oihw;
    if (n.op().startsWith("Depthwise")) {
      long c = fs[2];
      long m = fs[3];
      oihw = f -> HostArrays.reshape(HostArrays.transpose(f, 2, 3, 0, 1), c * m, 1, fs[0], fs[1]);
      group = c;
    } else {
      int[] perm = new int[rank];
      perm[0] = rank - 1;
      perm[1] = rank - 2;
      for (int i = 0; i < sp; i++) perm[2 + i] = i;
      oihw = f -> HostArrays.transpose(f, perm);
      long cin = n.inputInfo(0).hasRank() ? n.inputInfo(0).dim(rank - 1) : -1;
      if (cin > 0) group = cin / fs[sp];
    }
    long[] strides = spatialOf(n.attrInts("strides", null), sp);
    long[] dil = spatialOf(n.attrInts("dilations", null), sp);
    java.util.Optional<DilatedConv.Match> atrous = sp == 2 ? DilatedConv.around(n, out) : java.util.Optional.empty();
    String in = atrous.isPresent() ? out.input(atrous.get().s2b(), 0) : out.input(n, 0);
    if (atrous.isPresent()) dil = atrous.get().dilations();
    String x = Layout.nchw(out, in, rank);
    OnnxEmitter.Node conv = out.node("Conv").in(x, Weights.emit(out, n, 1, n.name() + "/filter", oihw))
        .attr("kernel_shape", kernel).attr("strides", strides).attr("dilations", dil)
        .attr("group", group);
    if (atrous.isPresent()) conv.attr("pads", atrous.get().pads());
    else padding(n, out, conv, kernel, strides, dil, sp);
    Layout.nhwc(out, conv.emit(), rank, out.output(n, 0));
  }

  /** Sets pads or auto_pad on an ONNX Conv/Pool node from a TensorFlow node's padding. */
  static void padding(NodeView n, OnnxEmitter out, OnnxEmitter.Node node, long[] kernel,
      long[] strides, long[] dil, int sp) {
    String pad = n.attrString("padding", "VALID");
    long[] pads = new long[2 * sp];
    if (pad.equals("EXPLICIT")) {
      long[] p = n.attrInts("explicit_paddings", null);
      for (int i = 0; i < sp; i++) {
        pads[i] = p[2 * (i + 1)];
        pads[sp + i] = p[2 * (i + 1) + 1];
      }
    } else if (pad.equals("SAME")) {
      TensorInfo in = n.inputInfo(0);
      for (int i = 0; i < sp; i++) {
        long size = in.hasRank() ? in.dim(1 + i) : -1;
        if (size < 0) {
          node.attr("auto_pad", "SAME_UPPER");
          return;
        }
        long outSize = (size + strides[i] - 1) / strides[i];
        long total = Math.max((outSize - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - size, 0);
        pads[i] = total / 2;
        pads[sp + i] = total - total / 2;
      }
    }
    node.attr("pads", pads);
  }

  static long[] spatialOf(long[] v, int sp) {
    long[] r = new long[sp];
    for (int i = 0; i < sp; i++) r[i] = v == null ? 1 : v[1 + i];
    return r;
  }
}
