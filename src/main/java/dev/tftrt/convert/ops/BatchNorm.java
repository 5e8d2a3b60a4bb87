package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.HostArrays;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import java.util.Optional;
import org.tensorflow.proto.DataType;

/**
 * FusedBatchNorm/V2/V3 in inference mode, folded at conversion time into one multiply and one
 * add per channel (y = x * s + b, s = scale / sqrt(var + eps), b = offset - mean * s), which
 * needs no layout change.
 */
public final class BatchNorm extends BaseConverter {
  public BatchNorm() {
    Signature v1 = Signature.builder().tensor("x").weight("scale").weight("offset").weight("mean")
        .weight("variance").types("T", DataType.DT_FLOAT).build();
    Signature v2 = Signature.builder().tensor("x").weight("scale").weight("offset").weight("mean")
        .weight("variance").types("T", Signature.FLOATS).types("U", DataType.DT_FLOAT).build();
    register(v1, "FusedBatchNorm");
    register(v2, "FusedBatchNormV2", "FusedBatchNormV3");
  }

  @Override
  protected Optional<String> check(NodeView n) {
    if (n.attrBool("is_training", true)) return reject("is_training is true; only inference batch norm converts.");
    String fmt = n.attrString("data_format", "NHWC");
    if (!fmt.equals("NHWC") && !fmt.equals("NCHW") && !fmt.equals("NDHWC") && !fmt.equals("NCDHW")) {
      return reject("data_format " + fmt + " is not supported.");
    }
    if (fmt.startsWith("NC") && n.inputRank(0) < 0) return reject("data_format " + fmt + " needs the input's rank.");
    for (int i = 1; i < 6; i++) {
      if (n.isOutputUsed(i)) return reject("its output " + i + " (batch statistics) is used; only output 0 converts.");
    }
    long c = n.constant(1).orElseThrow().numElements();
    for (int i = 2; i < 5; i++) {
      if (n.constant(i).orElseThrow().numElements() != c) {
        return reject("its scale, offset, mean and variance differ in length.");
      }
    }
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    double[] scale = HostArrays.toDoubles(n.constant(1).orElseThrow());
    double[] offset = HostArrays.toDoubles(n.constant(2).orElseThrow());
    double[] mean = HostArrays.toDoubles(n.constant(3).orElseThrow());
    double[] var = HostArrays.toDoubles(n.constant(4).orElseThrow());
    double eps = n.attrFloat("epsilon", 1e-4f);
    int c = scale.length;
    double[] s = new double[c];
    double[] b = new double[c];
    for (int i = 0; i < c; i++) {
      s[i] = scale[i] / Math.sqrt(var[i] + eps);
      b[i] = offset[i] - mean[i] * s[i];
    }
    long[] shape = {c};
    if (n.attrString("data_format", "NHWC").startsWith("NC")) {
      shape = new long[n.inputRank(0) - 1];
      java.util.Arrays.fill(shape, 1);
      shape[0] = c;
    }
    DataType t = n.attrType("T");
    String x = out.input(n, 0);
    String mul = out.op("Mul", x, out.constant(n.name() + "/scale", HostArrays.of(t, shape, s)));
    out.node("Add").in(mul, out.constant(n.name() + "/bias", HostArrays.of(t, shape, b)))
        .out(out.output(n, 0)).emit();
  }

}
