package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import dev.tftrt.convert.onnx.TensorProto;
import java.util.Optional;
import org.tensorflow.proto.DataType;

/** TopKV2 along the last axis with a constant k; indices cast to TensorFlow's index type. */
public final class TopK extends BaseConverter {
  public TopK() {
    register(Signature.builder().tensor("input").weight("k").types("T", Signature.NUMBERS).build(), "TopKV2");
  }

  @Override
  protected Optional<String> check(NodeView n) {
    if (!n.attrBool("sorted", true)) return reject("sorted=false is not supported.");
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    String values = out.output(n, 0);
    String idx = out.unique(n.name() + "/indices64");
    out.node("TopK").in(out.input(n, 0), out.int64s("k", n.constantLongs(1)[0]))
        .attr("axis", -1L).attr("largest", 1L).attr("sorted", 1L).out(values, idx).emit();
    DataType it = n.hasAttr("index_type") ? n.attrType("index_type") : DataType.DT_INT32;
    long to = it == DataType.DT_INT64 ? TensorProto.DataType.INT64_VALUE : TensorProto.DataType.INT32_VALUE;
    out.node("Cast").in(idx).attr("to", to).out(out.output(n, 1)).emit();
  }
}
