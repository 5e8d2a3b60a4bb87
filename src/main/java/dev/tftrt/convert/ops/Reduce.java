package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import java.util.Map;
import org.tensorflow.proto.DataType;

/**
 * Reductions over constant axes (Mean, Sum, Max, Min, Prod; keep_dims) and ArgMax/ArgMin.
 * Reducing over no axes is the identity in TensorFlow, so it emits Identity.
 */
public final class Reduce extends BaseConverter {
  private static final Map<String, String> ONNX = Map.of(
      "Mean", "ReduceMean", "Sum", "ReduceSum", "Max", "ReduceMax", "Min", "ReduceMin",
      "Prod", "ReduceProd");

  public Reduce() {
    register(Signature.builder().tensor("input").weight("reduction_indices").types("T", Signature.NUMBERS).build(),
        "Mean", "Sum", "Max", "Min", "Prod");
    register(Signature.builder().tensor("input").weight("dimension").types("T", Signature.NUMBERS)
        .types("output_type", Signature.INDICES).build(), "ArgMax", "ArgMin");
    register(Signature.builder().tensor("input").weight("reduction_indices").types("Tidx", Signature.INDICES).build(),
        "All", "Any");
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    String x = out.input(n, 0);
    String y = out.output(n, 0);
    long[] axes = n.constantLongs(1);
    if (n.op().startsWith("Arg")) {
      String idx = out.node(n.op()).in(x).attr("axis", axes[0]).attr("keepdims", 0L).emit();
      if (n.attrType("output_type") == DataType.DT_INT32) {
        out.node("Cast").in(idx).attr("to", (long) dev.tftrt.convert.onnx.TensorProto.DataType.INT32_VALUE).out(y).emit();
      } else {
        out.node("Identity").in(idx).out(y).emit();
      }
      return;
    }
    if (axes.length == 0) {
      out.node("Identity").in(x).out(y).emit();
      return;
    }
    boolean logical = n.op().equals("All") || n.op().equals("Any");
    if (logical) {
      // All = min over {0, 1}, Any = max; reduced as int32, which every backend reduces.
      x = out.node("Cast").in(x).attr("to", (long) dev.tftrt.convert.onnx.TensorProto.DataType.INT32_VALUE).emit();
    }
    String op = logical ? (n.op().equals("All") ? "ReduceMin" : "ReduceMax") : ONNX.get(n.op());
    String reduced = logical ? out.unique(n.name() + "/reduced") : y;
    OnnxEmitter.Node r = out.node(op).in(x).attr("keepdims", n.attrBool("keep_dims", false) ? 1L : 0L);
    if (op.equals("ReduceSum") || out.opset() >= 18) r.in(out.int64s("axes", axes));
    else r.attr("axes", axes);
    r.out(reduced).emit();
    if (logical) {
      out.node("Cast").in(reduced).attr("to", (long) dev.tftrt.convert.onnx.TensorProto.DataType.BOOL_VALUE).out(y).emit();
    }
  }
}
