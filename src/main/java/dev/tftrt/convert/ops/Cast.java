package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.OnnxTypes;
import dev.tftrt.convert.Signature;
import dev.tftrt.tensor.DTypes;
import java.util.Optional;
import org.tensorflow.proto.DataType;

/**
 * Cast between the dtypes TensorRT carries. Float to integer truncates toward zero, as in
 * TensorFlow. Float to uint8/int8 also saturates first: TensorFlow's vectorized CPU kernel,
 * which every tensor of more than a few dozen elements goes through, clamps out-of-range values
 * to the type's range, while ONNX Runtime's Cast wraps them modulo 256 (360.0 becomes 104, not
 * 255). TensorFlow's scalar path for tiny tensors wraps; the vectorized behaviour is the one
 * real images and activations see, so that is the one matched.
 */
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
    DataType src = DTypes.base(n.attrType("SrcT"));
    DataType dst = DTypes.base(n.attrType("DstT"));
    String x = out.input(n, 0);
    if (DTypes.isFloating(src) && (dst == DataType.DT_UINT8 || dst == DataType.DT_INT8)) {
      boolean u = dst == DataType.DT_UINT8;
      if (src != DataType.DT_FLOAT) { // not every runtime clips float16; float32 holds it exactly
        x = out.node("Cast").in(x).attr("to", (long) OnnxTypes.elemType(DataType.DT_FLOAT)).emit();
      }
      DataType f = DataType.DT_FLOAT;
      x = out.op("Clip", x, out.scalar(n.name() + "/min", f, u ? 0 : -128), out.scalar(n.name() + "/max", f, u ? 255 : 127));
    }
    out.node("Cast").in(x).attr("to", (long) OnnxTypes.elemType(dst)).out(out.output(n, 0)).emit();
  }
}
