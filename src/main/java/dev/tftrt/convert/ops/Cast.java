package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.OnnxTypes;
import dev.tftrt.convert.Signature;
import java.util.Optional;

/** Cast between the dtypes TensorRT carries (float to integer truncates, as in TensorFlow). */
public final class Cast extends BaseConverter {
  public Cast() {
    register(Signature.builder().tensor("x").types("SrcT", Signature.ANY).types("DstT", Signature.ANY).build(), "Cast");
  }

  @Override
  protected Optional<String> check(NodeView n) {
    if (n.attrBool("Truncate", false)) return reject("Truncate=true casts are not supported.");
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    out.node("Cast").in(out.input(n, 0)).attr("to", (long) OnnxTypes.elemType(n.attrType("DstT")))
        .out(out.output(n, 0)).emit();
  }
}
