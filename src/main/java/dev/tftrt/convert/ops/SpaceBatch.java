package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import dev.tftrt.graph.TensorInfo;
import java.util.Optional;

/**
 * SpaceToBatchND and BatchToSpaceND with constant block_shape and paddings/crops, for inputs
 * [batch, spatial..., channels] (the dilated-convolution pattern). Lowered on the channels-first
 * layout, so the surrounding layout transposes cancel with the convolutions':
 * SpaceToBatch = Pad, Reshape [N, C, S1/b1, b1, ...], Transpose [b..., N, C, S/b...], Reshape;
 * BatchToSpace = Reshape [b..., N, C, S...], Transpose [N, C, S1, b1, ...], Reshape, Slice.
 * Around a VALID stride-1 convolution they are fused into a dilated one (see {@link DilatedConv}).
 * Channels and spatial sizes must be known (batch may be dynamic); TensorFlow itself checks
 * that they divide by the block.
 */
public final class SpaceBatch extends BaseConverter {
  public SpaceBatch() {
    register(Signature.builder().tensor("input").weight("block_shape").weight("paddings")
        .types("T", Signature.ANY).build(), "SpaceToBatchND");
    register(Signature.builder().tensor("input").weight("block_shape").weight("crops")
        .types("T", Signature.ANY).build(), "BatchToSpaceND");
  }

  @Override
  protected Optional<String> check(NodeView n) {
    long[] block = n.constantLongs(1);
    long[] pads = n.constantLongs(2);
    int m = block.length;
    if (m < 1 || m > 3) return reject("block_shape has " + m + " values; 1 to 3 are supported.");
    if (pads.length != 2 * m) return reject("paddings/crops must have shape [" + m + ", 2].");
    for (long b : block) if (b < 1) return reject("block_shape values must be positive.");
    for (long p : pads) if (p < 0) return reject("paddings/crops must not be negative.");
    TensorInfo in = n.inputInfo(0);
    if (!in.hasRank()) return reject("its input's rank is unknown.");
    if (in.rank() != m + 2) {
      return reject("its input has rank " + in.rank() + "; only [batch, " + m + " spatial, channels] is supported.");
    }
    for (int i = 1; i < in.rank(); i++) {
      if (in.dim(i) < 0) return reject("it needs the input's spatial and channel sizes, and " + in + " is not known there.");
    }
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    if (DilatedConv.around(n, out).isPresent()) {
      // Part of an atrous convolution the Conv emits whole: nothing to do before it, and after
      // it the result already is this node's output.
      if (n.op().equals("BatchToSpaceND")) out.alias(n, 0, out.input(n, 0));
      return;
    }
    long[] block = n.constantLongs(1);
    long[] pads = n.constantLongs(2);
    int m = block.length;
    int rank = m + 2;
    TensorInfo in = n.inputInfo(0);
    long c = in.dim(rank - 1);
    long prod = 1;
    for (long b : block) prod *= b;
    String x = Layout.nchw(out, out.input(n, 0), rank);
    String y;
    if (n.op().equals("SpaceToBatchND")) {
      long[] onnxPads = new long[2 * rank];
      long[] padded = new long[m];
      boolean any = false;
      for (int i = 0; i < m; i++) {
        onnxPads[2 + i] = pads[2 * i];
        onnxPads[rank + 2 + i] = pads[2 * i + 1];
        padded[i] = in.dim(1 + i) + pads[2 * i] + pads[2 * i + 1];
        any |= pads[2 * i] != 0 || pads[2 * i + 1] != 0;
      }
      if (any) x = out.op("Pad", x, out.int64s(n.name() + "/pads", onnxPads));
      long[] split = new long[2 + 2 * m];
      split[0] = -1;
      split[1] = c;
      for (int i = 0; i < m; i++) {
        split[2 + 2 * i] = padded[i] / block[i];
        split[3 + 2 * i] = block[i];
      }
      long[] perm = new long[2 + 2 * m];
      for (int i = 0; i < m; i++) perm[i] = 3 + 2 * i;
      perm[m] = 0;
      perm[m + 1] = 1;
      for (int i = 0; i < m; i++) perm[m + 2 + i] = 2 + 2 * i;
      long[] merged = new long[rank];
      merged[0] = -1;
      merged[1] = c;
      for (int i = 0; i < m; i++) merged[2 + i] = padded[i] / block[i];
      String r = out.op("Reshape", x, out.int64s(n.name() + "/split", split));
      String t = out.node("Transpose").in(r).attr("perm", perm).emit();
      y = out.op("Reshape", t, out.int64s(n.name() + "/merged", merged));
    } else {
      long[] split = new long[2 + 2 * m];
      for (int i = 0; i < m; i++) split[i] = block[i];
      split[m] = -1;
      split[m + 1] = c;
      for (int i = 0; i < m; i++) split[m + 2 + i] = in.dim(1 + i);
      long[] perm = new long[2 + 2 * m];
      perm[0] = m;
      perm[1] = m + 1;
      for (int i = 0; i < m; i++) {
        perm[2 + 2 * i] = m + 2 + i;
        perm[3 + 2 * i] = i;
      }
      long[] merged = new long[rank];
      merged[0] = -1;
      merged[1] = c;
      for (int i = 0; i < m; i++) merged[2 + i] = in.dim(1 + i) * block[i];
      String r = out.op("Reshape", x, out.int64s(n.name() + "/split", split));
      String t = out.node("Transpose").in(r).attr("perm", perm).emit();
      y = out.op("Reshape", t, out.int64s(n.name() + "/merged", merged));
      boolean any = false;
      for (long p : pads) any |= p != 0;
      if (any) {
        long[] starts = new long[m];
        long[] ends = new long[m];
        long[] axes = new long[m];
        for (int i = 0; i < m; i++) {
          starts[i] = pads[2 * i];
          ends[i] = merged[2 + i] - pads[2 * i + 1];
          axes[i] = 2 + i;
        }
        y = out.op("Slice", y, out.int64s("starts", starts), out.int64s("ends", ends), out.int64s("axes", axes));
      }
    }
    Layout.nhwc(out, y, rank, out.output(n, 0));
  }
}
