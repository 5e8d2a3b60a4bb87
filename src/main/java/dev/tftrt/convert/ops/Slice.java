package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Slice and StridedSlice with every mask (begin, end, ellipsis, new_axis, shrink_axis):
 * one ONNX Slice over the sliced dimensions, then Squeeze for shrunk ones and Unsqueeze for new
 * ones.
 */
public final class Slice extends BaseConverter {
  private static final long MAX = Long.MAX_VALUE;
  private static final long MIN = Long.MIN_VALUE;

  public Slice() {
    register(Signature.builder().tensor("input").weight("begin").weight("size").types("T", Signature.ANY).build(), "Slice");
    register(Signature.builder().tensor("input").weight("begin").weight("end").weight("strides")
        .types("T", Signature.ANY).build(), "StridedSlice");
  }

  /** One dimension of the dense slice plan. */
  private record Dim(int inputAxis, long start, long end, long step, boolean shrink, boolean newAxis, boolean full) {}

  @Override
  protected Optional<String> check(NodeView n) {
    if (n.op().equals("Slice")) return ok();
    long[] strides = n.constantLongs(3);
    for (long s : strides) if (s == 0) return reject("a stride is 0.");
    long ell = n.attrInt("ellipsis_mask", 0);
    if (Long.bitCount(ell) > 1) return reject("more than one ellipsis is not allowed.");
    if (ell != 0 && Long.numberOfTrailingZeros(ell) < strides.length - 1 && n.inputRank(0) < 0) {
      return reject("an ellipsis before other slice entries needs the input's rank, and it is unknown.");
    }
    return ok();
  }

  @Override
  public void convert(NodeView n, OnnxEmitter out) {
    String x = out.input(n, 0);
    String y = out.output(n, 0);
    List<Dim> plan = n.op().equals("Slice") ? slicePlan(n) : stridedPlan(n);
    List<Long> starts = new ArrayList<>();
    List<Long> ends = new ArrayList<>();
    List<Long> axes = new ArrayList<>();
    List<Long> steps = new ArrayList<>();
    List<Long> squeeze = new ArrayList<>();
    List<Long> unsqueeze = new ArrayList<>();
    int outPos = 0;
    for (Dim d : plan) {
      if (d.newAxis()) {
        unsqueeze.add((long) outPos++);
        continue;
      }
      if (!d.full()) {
        starts.add(d.start());
        ends.add(d.end());
        axes.add((long) d.inputAxis());
        steps.add(d.step());
      }
      if (d.shrink()) squeeze.add((long) d.inputAxis());
      else outPos++;
    }
    int stages = (axes.isEmpty() ? 0 : 1) + (squeeze.isEmpty() ? 0 : 1) + (unsqueeze.isEmpty() ? 0 : 1);
    if (stages == 0) {
      out.node("Identity").in(x).out(y).emit();
      return;
    }
    String v = x;
    if (!axes.isEmpty()) {
      OnnxEmitter.Node s = out.node("Slice").in(v, out.int64s("starts", toArray(starts)),
          out.int64s("ends", toArray(ends)), out.int64s("axes", toArray(axes)));
      if (!steps.stream().allMatch(k -> k == 1)) s.in(out.int64s("steps", toArray(steps)));
      v = (--stages == 0) ? s.out(y).emit() : s.emit();
    }
    if (!squeeze.isEmpty()) {
      OnnxEmitter.Node s = out.node("Squeeze").in(v, out.int64s("axes", toArray(squeeze)));
      v = (--stages == 0) ? s.out(y).emit() : s.emit();
    }
    if (!unsqueeze.isEmpty()) {
      out.node("Unsqueeze").in(v, out.int64s("axes", toArray(unsqueeze))).out(y).emit();
    }
  }

  private static List<Dim> slicePlan(NodeView n) {
    long[] begin = n.constantLongs(1);
    long[] size = n.constantLongs(2);
    List<Dim> plan = new ArrayList<>();
    for (int i = 0; i < begin.length; i++) {
      long end = size[i] < 0 ? MAX : begin[i] + size[i];
      plan.add(new Dim(i, begin[i], end, 1, false, false, begin[i] == 0 && size[i] < 0));
    }
    return plan;
  }

  private static List<Dim> stridedPlan(NodeView n) {
    long[] begin = n.constantLongs(1);
    long[] end = n.constantLongs(2);
    long[] strides = n.constantLongs(3);
    long bm = n.attrInt("begin_mask", 0);
    long em = n.attrInt("end_mask", 0);
    long ell = n.attrInt("ellipsis_mask", 0);
    long nm = n.attrInt("new_axis_mask", 0);
    long sm = n.attrInt("shrink_axis_mask", 0);
    int entries = begin.length;
    int consuming = 0; // entries that consume an input dimension
    for (int i = 0; i < entries; i++) if ((nm >> i & 1) == 0 && (ell >> i & 1) == 0) consuming++;
    List<Dim> plan = new ArrayList<>();
    int axis = 0;
    for (int i = 0; i < entries; i++) {
      if ((ell >> i & 1) != 0) {
        int covered = Math.max(n.inputRank(0) - consuming, 0);
        for (int k = 0; k < covered; k++) plan.add(new Dim(axis++, 0, MAX, 1, false, false, true));
        continue;
      }
      if ((nm >> i & 1) != 0) {
        plan.add(new Dim(-1, 0, 0, 1, false, true, true));
        continue;
      }
      long step = strides[i];
      if ((sm >> i & 1) != 0) {
        long b = begin[i];
        plan.add(new Dim(axis++, b, b == -1 ? MAX : b + 1, 1, true, false, false));
        continue;
      }
      long s = (bm >> i & 1) != 0 ? (step > 0 ? 0 : MAX) : begin[i];
      long e = (em >> i & 1) != 0 ? (step > 0 ? MAX : MIN) : end[i];
      boolean full = step == 1 && s == 0 && e == MAX;
      plan.add(new Dim(axis++, s, e, step, false, false, full));
    }
    return plan;
  }

  private static long[] toArray(List<Long> l) {
    return l.stream().mapToLong(Long::longValue).toArray();
  }
}
