package dev.tftrt.convert.ops;

import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.model.TensorNames;
import dev.tftrt.convert.TfGraph;
import java.util.List;
import java.util.Optional;

/**
 * TensorFlow's atrous (dilated) convolution as graphs hold it: SpaceToBatchND -> Conv2D or
 * DepthwiseConv2dNative (VALID, stride 1) -> BatchToSpaceND with the same block. It equals one
 * convolution with dilation = block and pads = paddings - crops, which is what is emitted when
 * all three nodes are in the export and the two inner tensors feed nothing else: the space/batch
 * nodes then emit nothing and no block shuffles (rank-6 transposes) are left.
 */
final class DilatedConv {
  private DilatedConv() {}

  /** The matched pattern: its nodes, the dilation and the explicit pads [top, left, bottom, right]. */
  record Match(NodeView s2b, NodeView conv, NodeView b2s, long[] dilations, long[] pads) {}

  static Optional<Match> around(NodeView n, OnnxEmitter out) {
    TfGraph g = n.graph();
    NodeView conv;
    switch (n.op()) {
      case "SpaceToBatchND": {
        List<String> r = g.consumers(TensorNames.of(n.name(), 0));
        if (r.size() != 1) return Optional.empty();
        conv = g.view(r.get(0));
        break;
      }
      case "BatchToSpaceND":
        conv = g.view(TensorNames.node(n.input(0)));
        break;
      default:
        conv = n;
    }
    if (!conv.op().equals("Conv2D") && !conv.op().equals("DepthwiseConv2dNative")) return Optional.empty();
    if (conv.numInputs() != 2 || TensorNames.index(conv.input(0)) != 0) return Optional.empty();
    NodeView s2b = g.view(TensorNames.node(conv.input(0)));
    if (!s2b.op().equals("SpaceToBatchND")) return Optional.empty();
    List<String> convReaders = g.consumers(TensorNames.of(conv.name(), 0));
    if (convReaders.size() != 1 || g.consumers(TensorNames.of(s2b.name(), 0)).size() != 1) return Optional.empty();
    NodeView b2s = g.view(convReaders.get(0));
    if (!b2s.op().equals("BatchToSpaceND") || !b2s.input(0).equals(TensorNames.of(conv.name(), 0))) return Optional.empty();
    for (NodeView v : new NodeView[] {s2b, conv, b2s}) if (!out.converts(v.name())) return Optional.empty();
    if (out.isExportOutput(TensorNames.of(s2b.name(), 0)) || out.isExportOutput(TensorNames.of(conv.name(), 0))) {
      return Optional.empty();
    }
    if (!conv.attrString("padding", "VALID").equals("VALID")) return Optional.empty();
    for (String a : new String[] {"strides", "dilations"}) {
      long[] v = conv.attrInts(a, null);
      if (v != null) for (long x : v) if (x != 1) return Optional.empty();
    }
    if (!s2b.isConstant(1) || !s2b.isConstant(2) || !b2s.isConstant(1) || !b2s.isConstant(2)) return Optional.empty();
    long[] block = s2b.constantLongs(1);
    if (block.length != 2 || !java.util.Arrays.equals(block, b2s.constantLongs(1))) return Optional.empty();
    long[] p = s2b.constantLongs(2);
    long[] c = b2s.constantLongs(2);
    long[] pads = {p[0] - c[0], p[2] - c[2], p[1] - c[1], p[3] - c[3]};
    for (long x : pads) if (x < 0) return Optional.empty();
    return Optional.of(new Match(s2b, conv, b2s, block, pads));
  }
}
