package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import java.util.Map;
import org.tensorflow.proto.DataType;

/** Unary element-wise math. */
public final class ElementwiseUnary extends BaseConverter {
  private static final Map<String, String> DIRECT = Map.ofEntries(
      Map.entry("Abs", "Abs"), Map.entry("Neg", "Neg"), Map.entry("Exp", "Exp"),
      Map.entry("Log", "Log"), Map.entry("Sqrt", "Sqrt"), Map.entry("Reciprocal", "Reciprocal"),
      Map.entry("Inv", "Reciprocal"), Map.entry("Floor", "Floor"), Map.entry("Ceil", "Ceil"),
      Map.entry("Round", "Round"), Map.entry("Rint", "Round"), Map.entry("Sin", "Sin"),
      Map.entry("Cos", "Cos"), Map.entry("Tan", "Tan"), Map.entry("Asin", "Asin"),
      Map.entry("Acos", "Acos"), Map.entry("Atan", "Atan"), Map.entry("Sinh", "Sinh"),
      Map.entry("Cosh", "Cosh"), Map.entry("Asinh", "Asinh"), Map.entry("Acosh", "Acosh"),
      Map.entry("Atanh", "Atanh"), Map.entry("Erf", "Erf"), Map.entry("Sign", "Sign"),
      Map.entry("LogicalNot", "Not"), Map.entry("IsNan", "IsNaN"));

  public ElementwiseUnary() {
    Signature floats = Signature.builder().tensor("x").types("T", Signature.FLOATS).build();
    Signature numbers = Signature.builder().tensor("x").types("T", Signature.NUMBERS).build();
    register(numbers, "Abs", "Neg", "Sign", "Square");
    register(floats, "Exp", "Log", "Sqrt", "Rsqrt", "Reciprocal", "Inv", "Floor", "Ceil", "Round",
        "Rint", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh",
        "Atanh", "Erf", "Log1p", "Expm1", "IsNan");
    register(Signature.builder().tensor("x").build(), "LogicalNot");
  }

  @Override
  public void convert(NodeView node, OnnxEmitter out) {
    String x = out.input(node, 0);
    String y = out.output(node, 0);
    String direct = DIRECT.get(node.op());
    if (direct != null) {
      out.node(direct).in(x).out(y).emit();
      return;
    }
    DataType t = node.inputType(0);
    switch (node.op()) {
      case "Square":
        out.node("Mul").in(x, x).out(y).emit();
        break;
      case "Rsqrt":
        out.node("Reciprocal").in(out.op("Sqrt", x)).out(y).emit();
        break;
      case "Log1p":
        out.node("Log").in(out.op("Add", x, out.scalar("one", t, 1))).out(y).emit();
        break;
      case "Expm1":
        out.node("Sub").in(out.op("Exp", x), out.scalar("one", t, 1)).out(y).emit();
        break;
      default:
        throw new IllegalStateException(node.op());
    }
  }
}
