package dev.tftrt.convert.passes.push;

import java.util.Set;

/**
 * Squeeze drops its listed axes like a reduction without keepdims; with no axes listed, which
 * ones are 1 is not known here, so it is refused.
 */
final class SqueezePush implements PushRule {
  @Override
  public Set<String> ops() {
    return Set.of("Squeeze");
  }

  @Override
  public Absorb absorb(PushSite s, int[] p) {
    return ReducePush.remapAxes(s, p, true);
  }
}
