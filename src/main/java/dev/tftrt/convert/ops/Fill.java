package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.HostArrays;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.OnnxTypes;
import dev.tftrt.convert.Signature;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.tensor.HostTensor;
import org.tensorflow.proto.DataType;

/** Ops that make tensors from shapes: Shape, Fill, ZerosLike, OnesLike, Tile, Range. */
public final class Fill extends BaseConverter {
  public Fill() {
    register(Signature.builder().tensor("input").types("T", Signature.ANY).types("out_type", Signature.INDICES).build(), "Shape");
    register(Signature.builder().tensor("dims").tensor("value").types("T", Signature.ANY)
        .types("index_type", Signature.INDICES).build(), "Fill");
    register(Signature.builder().tensor("x").types("T", Signature.ANY).build(), "ZerosLike", "OnesLike");
    register(Signature.builder().tensor("input").tensor("multiples").types("T", Signature.ANY)
        .types("Tmultiples", Signature.INDICES).build(), "Tile");
    register(Signature.builder().tensor("start").tensor("limit").tensor("delta")
        .types("Tidx", DataType.DT_FLOAT, DataType.DT_INT32, DataType.DT_INT64).build(), "Range");
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    String y = out.output(n, 0);
    switch (n.op()) {
      case "Shape": {
        OnnxEmitter.Node shape = out.node("Shape").in(out.input(n, 0));
        if (n.attrType("out_type") == DataType.DT_INT32) {
          out.node("Cast").in(shape.emit()).attr("to", (long) TensorProto.DataType.INT32_VALUE).out(y).emit();
        } else {
          shape.out(y).emit();
        }
        break;
      }
      case "Fill":
        out.node("Expand").in(out.input(n, 1), int64(n, out, 0)).out(y).emit();
        break;
      case "ZerosLike":
      case "OnesLike": {
        DataType t = n.attrType("T");
        HostTensor v = HostArrays.of(t, new long[] {1}, n.op().equals("OnesLike") ? 1 : 0);
        out.node("ConstantOfShape").in(out.op("Shape", out.input(n, 0))).attr("value", v).out(y).emit();
        break;
      }
      case "Tile":
        out.node("Tile").in(out.input(n, 0), int64(n, out, 1)).out(y).emit();
        break;
      default:
        out.node("Range").in(out.input(n, 0), out.input(n, 1), out.input(n, 2)).out(y).emit();
    }
  }

  /** Input i as an int64 ONNX value (constants converted at conversion time). */
  static String int64(NodeView n, OnnxEmitter out, int i) {
    if (n.isConstant(i)) return out.int64s(n.name() + "/shape", n.constantLongs(i));
    String v = out.input(n, i);
    if (n.inputType(i) == DataType.DT_INT64) return v;
    return out.node("Cast").in(v).attr("to", (long) OnnxTypes.elemType(DataType.DT_INT64)).emit();
  }
}
