package dev.tftrt.convert.passes.push;

import java.util.Set;

/**
 * Element-wise ops compute the same in any layout. Unary ops take only their one input; the
 * broadcasting ones need every input in the layout (the pass permutes constants to match).
 */
final class ElementwisePush implements PushRule {
  static final Set<String> UNARY = Set.of("Relu", "Sigmoid", "Tanh", "Abs", "Neg", "Exp", "Log",
      "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sin", "Cos", "Tan", "Erf", "Sign", "Not", "Softplus",
      "Softsign", "Elu", "Selu", "LeakyRelu", "HardSigmoid", "Cast", "Identity", "IsNaN",
      "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh");
  static final Set<String> BROADCAST = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum",
      "Mean", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Where", "Mod",
      "PRelu");

  private final Set<String> ops;
  private final boolean broadcast;

  private ElementwisePush(Set<String> ops, boolean broadcast) {
    this.ops = ops;
    this.broadcast = broadcast;
  }

  static final ElementwisePush UNARY_OPS = new ElementwisePush(UNARY, false);
  static final ElementwisePush BROADCAST_OPS = new ElementwisePush(BROADCAST, true);

  @Override
  public Set<String> ops() {
    return ops;
  }

  @Override
  public Absorb absorb(PushSite s, int[] p) {
    if (broadcast) return new Absorb(s, p).carryAll();
    if (s.node().getInputCount() != 1) return null;
    return new Absorb(s, p).carry(0);
  }
}
