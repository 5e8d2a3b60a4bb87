package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import dev.tftrt.graph.TensorInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reshape (constant or computed target shape), Squeeze and ExpandDims. A computed shape is cast
 * to int64 and read with allowzero from opset 14 on (at opset 13 a computed 0 would copy the
 * input dimension, which only matters for empty tensors).
 */
public final class Reshape extends BaseConverter {
  public Reshape() {
    register(Signature.builder().tensor("tensor").tensor("shape").types("T", Signature.ANY).build(), "Reshape");
    register(Signature.builder().tensor("input").types("T", Signature.ANY).build(), "Squeeze");
    register(Signature.builder().tensor("input").weight("dim").types("T", Signature.ANY).build(), "ExpandDims");
  }

  @Override
  protected Optional<String> check(NodeView n) {
    switch (n.op()) {
      case "Reshape":
        if (!n.isConstant(1)) return ok(); // computed shapes: ONNX Reshape with allowzero (opset 14+)
        for (long d : n.constantLongs(1)) {
          if (d == 0) return reject("its target shape has a 0, which ONNX reads as 'copy this dimension'.");
        }
        return ok();
      case "Squeeze": {
        long[] dims = n.attrInts("squeeze_dims", new long[0]);
        if (dims.length == 0) {
          TensorInfo in = n.inputInfo(0);
          if (!in.isFullyKnown()) {
            return reject("it squeezes every size-1 dimension, which needs the input shape, and " + in + " is not fully known.");
          }
        }
        return ok();
      }
      default:
        if (n.constantLongs(1).length != 1) return reject("dim must hold one value.");
        return ok();
    }
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    String x = out.input(n, 0);
    String y = out.output(n, 0);
    switch (n.op()) {
      case "Reshape":
        if (n.isConstant(1)) {
          out.node("Reshape").in(x, out.int64s(n.name() + "/shape", n.constantLongs(1))).out(y).emit();
        } else {
          // A computed shape may hold a 0 (an empty dimension) that ONNX must not read as "copy".
          OnnxEmitter.Node r = out.node("Reshape").in(x, Fill.int64(n, out, 1));
          if (out.opset() >= 14) r.attr("allowzero", 1L);
          r.out(y).emit();
        }
        break;
      case "Squeeze": {
        long[] dims = n.attrInts("squeeze_dims", new long[0]);
        if (dims.length == 0) {
          List<Long> ones = new ArrayList<>();
          long[] shape = n.inputInfo(0).dims();
          for (int i = 0; i < shape.length; i++) if (shape[i] == 1) ones.add((long) i);
          dims = ones.stream().mapToLong(Long::longValue).toArray();
        }
        if (dims.length == 0) out.node("Identity").in(x).out(y).emit();
        else out.node("Squeeze").in(x, out.int64s("axes", dims)).out(y).emit();
        break;
      }
      default:
        out.node("Unsqueeze").in(x, out.int64s("axes", n.constantLongs(1))).out(y).emit();
    }
  }
}
