package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import java.util.Optional;

/** BiasAdd: channels-last is a broadcasting Add; NCHW reshapes the bias to [C, 1, ...]. */
public final class BiasAdd extends BaseConverter {
  public BiasAdd() {
    register(Signature.builder().tensor("value").tensor("bias").types("T", Signature.NUMBERS).build(),
        "BiasAdd", "BiasAddV1");
  }

  @Override
  protected Optional<String> check(NodeView n) {
    String fmt = n.attrString("data_format", "NHWC");
    if (fmt.equals("NCHW") && n.inputRank(0) < 0) {
      return reject("data_format NCHW needs the input's rank, and it is unknown.");
    }
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    String x = out.input(n, 0);
    String b = out.input(n, 1);
    if (n.attrString("data_format", "NHWC").equals("NCHW") && n.inputRank(0) > 2) {
      long[] shape = new long[n.inputRank(0) - 1];
      java.util.Arrays.fill(shape, 1);
      shape[0] = -1;
      b = out.op("Reshape", b, out.int64s("bias_shape", shape));
    }
    out.node("Add").in(x, b).out(out.output(n, 0)).emit();
  }
}
