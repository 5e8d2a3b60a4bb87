package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import java.util.Arrays;
import java.util.Optional;

/**
 * MaxPool and AvgPool, 2D and 3D, and MaxPoolV2 (MaxPool with ksize and strides as constant
 * inputs, what TensorFlow Java's maxPool builds). TensorFlow's AvgPool leaves padding out of the
 * average, which is ONNX's default (count_include_pad = 0).
 */
public final class Pooling extends BaseConverter {
  public Pooling() {
    Signature s = Signature.builder().tensor("input").types("T", Signature.FLOATS).build();
    register(s, "MaxPool", "AvgPool", "MaxPool3D", "AvgPool3D");
    register(Signature.builder().tensor("input").weight("ksize").weight("strides")
        .types("T", Signature.FLOATS).build(), "MaxPoolV2");
  }

  /** ksize or strides: an attribute, or MaxPoolV2's constant input. */
  private static long[] window(NodeView n, String which) {
    if (n.op().equals("MaxPoolV2")) return n.constantLongs(which.equals("ksize") ? 1 : 2);
    return n.attrInts(which, null);
  }

  private static int spatial(NodeView n) {
    return n.op().endsWith("3D") ? 3 : 2;
  }

  @Override
  protected Optional<String> check(NodeView n) {
    int sp = spatial(n);
    int rank = sp + 2;
    Optional<String> layout = Layout.checkChannelsLastInput(n, sp);
    if (layout.isPresent()) return layout;
    for (String a : new String[] {"ksize", "strides"}) {
      long[] v = window(n, a);
      if (v == null || v.length != rank) return reject(a + " must have " + rank + " values.");
      if (v[0] != 1 || v[rank - 1] != 1) {
        return reject(a + " " + Arrays.toString(v) + " pools over batch or channels, which ONNX cannot express.");
      }
    }
    String pad = n.attrString("padding", "VALID");
    if (!pad.equals("SAME") && !pad.equals("VALID")) return reject("padding " + pad + " is not supported.");
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    int sp = spatial(n);
    int rank = sp + 2;
    long[] kernel = Convolution.spatialOf(window(n, "ksize"), sp);
    long[] strides = Convolution.spatialOf(window(n, "strides"), sp);
    long[] dil = new long[sp];
    Arrays.fill(dil, 1);
    String x = Layout.nchw(out, out.input(n, 0), rank);
    OnnxEmitter.Node pool = out.node(n.op().startsWith("Max") ? "MaxPool" : "AveragePool").in(x)
        .attr("kernel_shape", kernel).attr("strides", strides);
    Convolution.padding(n, out, pool, kernel, strides, dil, sp);
    Layout.nhwc(out, pool.emit(), rank, out.output(n, 0));
  }
}
