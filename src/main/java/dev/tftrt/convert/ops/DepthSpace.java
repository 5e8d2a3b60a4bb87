package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import java.util.Optional;

/**
 * SpaceToDepth and DepthToSpace (NHWC). TensorFlow's channel order is ONNX's DCR mode; the
 * ops run on NCHW between transposes.
 */
public final class DepthSpace extends BaseConverter {
  public DepthSpace() {
    register(Signature.builder().tensor("input").types("T", Signature.ANY).build(), "SpaceToDepth", "DepthToSpace");
  }

  @Override
  protected Optional<String> check(NodeView n) {
    String fmt = n.attrString("data_format", "NHWC");
    if (!fmt.equals("NHWC")) return reject("data_format " + fmt + " is not supported; only NHWC is.");
    if (n.inputRank(0) >= 0 && n.inputRank(0) != 4) return reject("its input has rank " + n.inputRank(0) + ", not 4.");
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    String x = Layout.nchw(out, out.input(n, 0), 4);
    OnnxEmitter.Node op = out.node(n.op()).in(x).attr("blocksize", n.attrInt("block_size", 2));
    if (n.op().equals("DepthToSpace")) op.attr("mode", "DCR");
    Layout.nhwc(out, op.emit(), 4, out.output(n, 0));
  }
}
