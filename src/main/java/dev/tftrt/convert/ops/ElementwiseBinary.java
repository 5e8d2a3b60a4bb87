package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import dev.tftrt.tensor.DTypes;
import java.util.Map;
import java.util.Optional;
import org.tensorflow.proto.DataType;

/**
 * Binary element-wise ops with NumPy broadcasting (the same rule in TensorFlow and ONNX):
 * arithmetic, comparisons and logical ops, plus the n-ary AddN.
 */
public final class ElementwiseBinary extends BaseConverter {
  /** TensorFlow op -> ONNX op for the ops that map one to one. */
  private static final Map<String, String> DIRECT = Map.ofEntries(
      Map.entry("Add", "Add"), Map.entry("AddV2", "Add"), Map.entry("Sub", "Sub"),
      Map.entry("Mul", "Mul"), Map.entry("RealDiv", "Div"), Map.entry("Maximum", "Max"),
      Map.entry("Minimum", "Min"), Map.entry("Pow", "Pow"), Map.entry("Equal", "Equal"),
      Map.entry("Less", "Less"), Map.entry("LessEqual", "LessOrEqual"),
      Map.entry("Greater", "Greater"), Map.entry("GreaterEqual", "GreaterOrEqual"),
      Map.entry("LogicalAnd", "And"), Map.entry("LogicalOr", "Or"));

  public ElementwiseBinary() {
    Signature numbers = Signature.builder().tensor("x").tensor("y").types("T", Signature.NUMBERS).build();
    Signature floats = Signature.builder().tensor("x").tensor("y").types("T", Signature.FLOATS).build();
    Signature logical = Signature.builder().tensor("x").tensor("y").build();
    register(numbers, "Add", "AddV2", "Sub", "Mul", "Maximum", "Minimum", "SquaredDifference",
        "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "FloorDiv", "FloorMod");
    register(floats, "RealDiv", "Pow", "DivNoNan");
    register(logical, "LogicalAnd", "LogicalOr");
    register(Signature.builder().tensors("inputs").types("T", Signature.NUMBERS).build(), "AddN");
  }

  @Override
  protected Optional<String> check(NodeView node) {
    if ((node.op().equals("LogicalAnd") || node.op().equals("LogicalOr"))
        && node.inputType(0) != DataType.DT_BOOL) {
      return reject("its inputs are " + DTypes.name(node.inputType(0)) + ", not bool.");
    }
    return ok();
  }

  @Override
  public void convert(NodeView node, OnnxEmitter out) {
    String y = out.output(node, 0);
    if (node.op().equals("AddN")) {
      String[] ins = new String[node.numInputs()];
      for (int i = 0; i < ins.length; i++) ins[i] = out.input(node, i);
      out.node(ins.length == 1 ? "Identity" : "Sum").in(ins).out(y).emit();
      return;
    }
    String a = out.input(node, 0);
    String b = out.input(node, 1);
    String direct = DIRECT.get(node.op());
    if (direct != null) {
      out.node(direct).in(a, b).out(y).emit();
      return;
    }
    boolean integer = DTypes.isInteger(node.inputType(0));
    switch (node.op()) {
      case "SquaredDifference": {
        String d = out.op("Sub", a, b);
        out.node("Mul").in(d, d).out(y).emit();
        break;
      }
      case "NotEqual":
        out.node("Not").in(out.op("Equal", a, b)).out(y).emit();
        break;
      case "FloorDiv":
        if (integer) {
          // x - floormod(x, y) is an exact multiple of y, so the truncating Div is exact.
          String r = out.node("Mod").in(a, b).attr("fmod", 0L).emit();
          out.node("Div").in(out.op("Sub", a, r), b).out(y).emit();
        } else {
          out.node("Floor").in(out.op("Div", a, b)).out(y).emit();
        }
        break;
      case "FloorMod":
        if (integer) {
          out.node("Mod").in(a, b).attr("fmod", 0L).out(y).emit();
        } else {
          String q = out.op("Floor", out.op("Div", a, b));
          out.node("Sub").in(a, out.op("Mul", q, b)).out(y).emit();
        }
        break;
      case "DivNoNan": {
        String zero = out.scalar("zero", node.inputType(0), 0);
        String isZero = out.op("Equal", b, zero);
        out.node("Where").in(isZero, zero, out.op("Div", a, b)).out(y).emit();
        break;
      }
      default:
        throw new IllegalStateException(node.op());
    }
  }
}
