package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.HostArrays;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import java.util.Optional;
import org.tensorflow.proto.DataType;

/**
 * FusedBatchNorm/V2/V3. In inference mode it is folded at conversion time into one multiply and
 * one add per channel (y = x * s + b, s = scale / sqrt(var + eps), b = offset - mean * s), which
 * needs no layout change. In training mode (is_training true, which is also TensorFlow's default
 * when the attribute is absent) TensorFlow normalises with the batch's own statistics, so that
 * is what the ONNX computes: mean and biased variance over every axis but the channel one, in
 * float32 as TensorFlow's kernel does. The mean and variance inputs are then unused (output 0 does
 * not depend on exponential_avg_factor either).
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
    boolean training = n.attrBool("is_training", true);
    String fmt = n.attrString("data_format", "NHWC");
    if (!fmt.equals("NHWC") && !fmt.equals("NCHW") && !fmt.equals("NDHWC") && !fmt.equals("NCDHW")) {
      return reject("data_format " + fmt + " is not supported.");
    }
    if (fmt.startsWith("NC") && n.inputRank(0) < 0) return reject("data_format " + fmt + " needs the input's rank.");
    if (training && n.inputRank(0) < 0) return reject("is_training is true, and batch statistics need the input's rank.");
    if (training && n.inputRank(0) < 2) return reject("is_training is true, and its input has rank " + n.inputRank(0) + ".");
    for (int i = 1; i < 6; i++) {
      if (n.isOutputUsed(i)) return reject("its output " + i + " (batch statistics) is used; only output 0 converts.");
    }
    long c = n.constant(1).orElseThrow().numElements();
    for (int i = 2; i < (training ? 3 : 5); i++) {
      if (n.constant(i).orElseThrow().numElements() != c) {
        return reject(training ? "its scale and offset differ in length." : "its scale, offset, mean and variance differ in length.");
      }
    }
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    if (n.attrBool("is_training", true)) {
      training(n, out);
      return;
    }
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

  /** y = (x - mean) * scale / sqrt(var + eps) + offset, with the batch's mean and variance. */
  private static void training(NodeView n, OnnxEmitter out) {
    int rank = n.inputRank(0);
    boolean first = n.attrString("data_format", "NHWC").startsWith("NC");
    int channel = first ? 1 : rank - 1;
    long[] axes = new long[rank - 1];
    for (int i = 0, k = 0; i < rank; i++) if (i != channel) axes[k++] = i;
    long[] shape = new long[rank];
    java.util.Arrays.fill(shape, 1);
    double[] scale = HostArrays.toDoubles(n.constant(1).orElseThrow());
    double[] offset = HostArrays.toDoubles(n.constant(2).orElseThrow());
    shape[channel] = scale.length;
    DataType t = n.attrType("T");
    DataType f = DataType.DT_FLOAT;
    String x = out.input(n, 0);
    if (t != f) x = out.node("Cast").in(x).attr("to", (long) dev.tftrt.convert.OnnxTypes.elemType(f)).emit();
    String mean = reduceMean(out, x, axes);
    String centred = out.op("Sub", x, mean);
    String var = reduceMean(out, out.op("Mul", centred, centred), axes);
    String eps = out.scalar(n.name() + "/epsilon", f, n.attrFloat("epsilon", 1e-4f));
    String inv = out.op("Reciprocal", out.op("Sqrt", out.op("Add", var, eps)));
    String factor = out.op("Mul", inv, out.constant(n.name() + "/scale", HostArrays.of(f, shape, scale)));
    OnnxEmitter.Node add = out.node("Add").in(out.op("Mul", centred, factor),
        out.constant(n.name() + "/offset", HostArrays.of(f, shape, offset)));
    if (t == f) {
      add.out(out.output(n, 0)).emit();
    } else {
      out.node("Cast").in(add.emit()).attr("to", (long) dev.tftrt.convert.OnnxTypes.elemType(t)).out(out.output(n, 0)).emit();
    }
  }

  private static String reduceMean(OnnxEmitter out, String x, long[] axes) {
    OnnxEmitter.Node r = out.node("ReduceMean").in(x).attr("keepdims", 1L);
    if (out.opset() >= 18) r.in(out.int64s("axes", axes));
    else r.attr("axes", axes);
    return r.emit();
  }
}
