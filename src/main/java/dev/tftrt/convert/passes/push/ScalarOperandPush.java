package dev.tftrt.convert.passes.push;

import java.util.Set;

/**
 * Element-wise in their data input, with extra operands that must be scalar constants (a
 * per-axis quantization axis or a tensor bound would need remapping): Clip's min/max may also
 * be absent, quantization's scale and zero point may not.
 */
final class ScalarOperandPush implements PushRule {
  @Override
  public Set<String> ops() {
    return Set.of("Clip", "QuantizeLinear", "DequantizeLinear");
  }

  @Override
  public Absorb absorb(PushSite s, int[] p) {
    boolean optional = s.node().getOpType().equals("Clip");
    for (int i = 1; i < s.node().getInputCount(); i++) {
      String in = s.node().getInput(i);
      if (optional && in.isEmpty()) continue;
      if (!s.isScalarConst(in)) return null;
    }
    return new Absorb(s, p).carry(0);
  }
}
