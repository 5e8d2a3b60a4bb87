package dev.tftrt.convert.passes.push;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A reader's answer to a push: which inputs carry the layout, its edits, its output's perm. */
public final class Absorb {
  private final boolean[] carry;
  private int[] outPerm;
  private final List<Runnable> edits = new ArrayList<>();

  /** Nothing carried yet; the output comes out permuted like the input (p). */
  public Absorb(PushSite s, int[] p) {
    this.carry = new boolean[s.node().getInputCount()];
    this.outPerm = p;
  }

  /** Input i must be the transposed value, a matching transpose or a constant. */
  public Absorb carry(int i) {
    carry[i] = true;
    return this;
  }

  public Absorb carryAll() {
    Arrays.fill(carry, true);
    return this;
  }

  public Absorb outPerm(int[] q) {
    outPerm = q;
    return this;
  }

  public Absorb edit(Runnable e) {
    edits.add(e);
    return this;
  }

  /** Input count when asked (edits may add inputs that are not layout-carrying). */
  public int inputs() {
    return carry.length;
  }

  public boolean carries(int i) {
    return carry[i];
  }

  public int[] outPerm() {
    return outPerm;
  }

  public void runEdits() {
    for (Runnable e : edits) e.run();
  }
}
