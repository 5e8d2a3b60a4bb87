package dev.tftrt.convert.passes.push;

import java.util.Set;

/**
 * What one op family knows about taking a Transpose(p) on its input: whether it can compute in
 * the untransposed layout instead, how its attributes and inputs change, and which permutation
 * its output then needs. The pass does the rest (which inputs match, moving the transpose).
 */
public interface PushRule {
  /** The ONNX op types (default domain) this rule covers. */
  Set<String> ops();

  /**
   * How the reader at s takes a Transpose(p) of its layout-carrying inputs; null when it can't.
   * May only add constants through s: the node itself is changed by the returned edits, which run
   * once every reader of the transpose has agreed.
   */
  Absorb absorb(PushSite s, int[] p);
}
