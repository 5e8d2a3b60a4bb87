package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import dev.tftrt.convert.onnx.TensorProto;
import java.util.Optional;
import org.tensorflow.proto.DataType;

/** GatherV2 (constant axis, batch_dims 0), Gather and GatherNd (batch_dims 0). */
public final class Gather extends BaseConverter {
  public Gather() {
    register(Signature.builder().tensor("params").tensor("indices").weight("axis")
        .types("Tparams", Signature.ANY).types("Tindices", Signature.INDICES).build(), "GatherV2");
    register(Signature.builder().tensor("params").tensor("indices")
        .types("Tparams", Signature.ANY).types("Tindices", Signature.INDICES).build(), "Gather", "GatherNd");
  }

  @Override
  protected Optional<String> check(NodeView n) {
    if (n.attrInt("batch_dims", 0) != 0) return reject("batch_dims " + n.attrInt("batch_dims", 0) + " is not supported; only 0 is.");
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    String params = out.input(n, 0);
    String indices = out.input(n, 1);
    String y = out.output(n, 0);
    if (n.op().equals("GatherNd")) {
      if (n.attrType("Tindices") != DataType.DT_INT64) {
        indices = out.node("Cast").in(indices).attr("to", (long) TensorProto.DataType.INT64_VALUE).emit();
      }
      out.node("GatherND").in(params, indices).out(y).emit();
      return;
    }
    long axis = n.op().equals("GatherV2") ? n.constantLongs(2)[0] : 0;
    out.node("Gather").in(params, indices).attr("axis", axis).out(y).emit();
  }
}
