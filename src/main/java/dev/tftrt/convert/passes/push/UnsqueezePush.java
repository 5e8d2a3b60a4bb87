package dev.tftrt.convert.passes.push;

import java.util.Set;

/** Unsqueeze inserts the same axes; the output perm keeps them in place and permutes the others. */
final class UnsqueezePush implements PushRule {
  @Override
  public Set<String> ops() {
    return Set.of("Unsqueeze");
  }

  @Override
  public Absorb absorb(PushSite s, int[] p) {
    int rank = p.length;
    long[] axes = s.axes();
    if (axes == null) return null;
    int r = rank + axes.length;
    boolean[] inserted = new boolean[r];
    for (long a : axes) {
      int n = Axes.normAxis(a, r);
      if (n < 0 || inserted[n]) return null;
      inserted[n] = true;
    }
    int[] pos = new int[rank]; // where each input axis lands
    int k = 0;
    for (int j = 0; j < r; j++) if (!inserted[j]) pos[k++] = j;
    int[] q = new int[r];
    for (int j = 0; j < r; j++) q[j] = j;
    for (int i = 0; i < rank; i++) q[pos[i]] = pos[p[i]];
    return new Absorb(s, p).carry(0).outPerm(q);
  }
}
