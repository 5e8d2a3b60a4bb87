package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import java.util.Optional;

/**
 * LRN over channels (NHWC). ONNX divides alpha by the window size and TensorFlow does not, so
 * alpha is scaled by the size.
 */
public final class Lrn extends BaseConverter {
  public Lrn() {
    register(Signature.builder().tensor("input").types("T", Signature.FLOATS).build(), "LRN");
  }

  @Override
  protected Optional<String> check(NodeView n) {
    if (n.inputRank(0) >= 0 && n.inputRank(0) != 4) return reject("its input has rank " + n.inputRank(0) + ", not 4.");
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    long size = 2 * n.attrInt("depth_radius", 5) + 1;
    String x = Layout.nchw(out, out.input(n, 0), 4);
    String y = out.node("LRN").in(x).attr("size", size)
        .attr("alpha", n.attrFloat("alpha", 1f) * size).attr("beta", n.attrFloat("beta", 0.5f))
        .attr("bias", n.attrFloat("bias", 1f)).emit();
    Layout.nhwc(out, y, 4, out.output(n, 0));
  }
}
