package dev.tftrt.convert.passes;

import com.google.protobuf.ByteString;
import dev.tftrt.convert.OnnxPass;
import dev.tftrt.convert.onnx.AttributeProto;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Moves Transpose nodes down through layout-agnostic ops and removes the pairs that meet, so
 * that a chain of converted NHWC layers (conv, batch norm, relu6, depthwise conv, residual add,
 * concat, pad...) runs in NCHW with no transposes between its layers.
 *
 * <p>Rules, applied from a worklist until nothing changes (each step moves a transpose later in
 * the graph or removes one, so it ends):
 * <ul>
 *   <li>Transpose(q) of Transpose(p) becomes one Transpose(p then q), or nothing when that is
 *       the identity. An identity Transpose that is a graph output hands the name to the
 *       producer of its input.
 *   <li>Transpose(q) of an Unsqueeze, when q keeps the unsqueezed value's own axes in order,
 *       is that Unsqueeze with other axes (NHWC [n,h,w,1] to NCHW [n,1,h,w]).
 *   <li>A Transpose(p) is moved below its readers (besides inverse transposes, cancelled first)
 *       when every one of them takes it; each then computes in the untransposed layout and a
 *       Transpose after it restores its output. An element-wise op takes it when each other
 *       input is a Transpose(p) too, or a constant (permuted at conversion time; lower-rank
 *       constants broadcast as NumPy aligns them), or a scalar, or a value that some other
 *       reader already transposes the inverse way (used as is), or the output of a reader
 *       planned before it in the same move. Ops that are element-wise up to axes take it with
 *       their axes remapped through p: Concat, Softmax/LogSoftmax, ArgMax/ArgMin and the
 *       Reduce ops (without keepdims the Transpose after them is the perm of the axes left,
 *       often the identity), Pad (pads permuted), Slice (axes input; implicit axes made
 *       explicit), Squeeze (axes), Unsqueeze (same axes; the perm moves around the new ones),
 *       and Resize (roi, scales and sizes permuted; linear and cubic only with constant scales
 *       whose resized axes stay in a layout runtimes take).
 * </ul>
 * Copies made by moving below several readers can get stuck (before NHWC graph outputs, or
 * unsupported ops); {@link #apply} keeps such a move only where it leaves fewer transposes.
 * Graph inputs and outputs keep their names and layouts. O(n) per rule application in total:
 * producers and readers are indexed once and updated locally.
 */
public final class TransposePushPass implements OnnxPass {
  private static final Set<String> UNARY = Set.of("Relu", "Sigmoid", "Tanh", "Abs", "Neg", "Exp", "Log",
      "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sin", "Cos", "Tan", "Erf", "Sign", "Not", "Softplus",
      "Softsign", "Elu", "Selu", "LeakyRelu", "HardSigmoid", "Cast", "Identity", "IsNaN", "Clip",
      "QuantizeLinear", "DequantizeLinear", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh");
  private static final Set<String> BROADCAST = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum",
      "Mean", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Where", "Mod",
      "PRelu");
  private static final Set<String> REDUCE = Set.of("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
      "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSumExp", "ReduceSumSquare");

  private final boolean allowSeveral;

  public TransposePushPass() {
    this(true);
  }

  private TransposePushPass(boolean allowSeveral) {
    this.allowSeveral = allowSeveral;
  }

  /** The pass that pushes a transpose below a single reader only (for comparisons). */
  public static TransposePushPass singleReadersOnly() {
    return new TransposePushPass(false);
  }

  @Override
  public String name() {
    return "transpose-push";
  }

  /** Transpose nodes in a model (what the conversion report shows per segment). */
  public static int count(ModelProto model) {
    return count(model.getGraph());
  }

  public static int count(GraphProto graph) {
    int n = 0;
    for (NodeProto p : graph.getNodeList()) if (p.getOpType().equals("Transpose")) n++;
    return n;
  }

  /** One node while the pass runs. */
  private static final class Node {
    final NodeProto.Builder b;
    final int idx; // creation order: the graph's own order, then transposes made here
    boolean dead;

    Node(NodeProto.Builder b, int idx) {
      this.b = b;
      this.idx = idx;
    }
  }

  private Node newNode(NodeProto.Builder b) {
    Node n = new Node(b, nodes.size());
    nodes.add(n);
    return n;
  }

  private final Map<String, Node> producer = new HashMap<>();
  private final Map<String, List<Node>> readers = new HashMap<>();
  private final Map<String, TensorProto> inits = new HashMap<>();
  private final Set<String> names = new HashSet<>();
  private final Set<String> outputs = new HashSet<>();
  private final List<Node> nodes = new ArrayList<>();
  private final Deque<Node> work = new ArrayDeque<>();
  private int fresh;
  /** Values (transpose outputs) not pushed below several readers in this run. */
  private final Set<String> blocked = new HashSet<>();
  /** Values pushed below several readers (first run), in order. */
  private final Set<String> pushedBelowSeveral = new java.util.LinkedHashSet<>();
  private static final int MAX_RETRIES = 16;

  /**
   * Runs the rules. Pushing below several readers copies a transpose, and copies that get stuck
   * (before graph outputs, unsupported ops) can leave more than there were: each value where
   * that happened is then tried without it (a few runs at most), keeping what leaves fewer
   * transposes (then fewer nodes).
   */
  @Override
  public GraphProto apply(GraphProto graph) {
    blocked.clear();
    pushedBelowSeveral.clear();
    GraphProto best = run(graph);
    if (!allowSeveral) return best;
    List<String> tries = new ArrayList<>(pushedBelowSeveral);
    for (String y : tries.subList(0, Math.min(tries.size(), MAX_RETRIES))) {
      blocked.add(y);
      GraphProto g = run(graph);
      int c = count(g);
      int b = count(best);
      if (c < b || (c == b && g.getNodeCount() < best.getNodeCount())) best = g;
      else blocked.remove(y);
    }
    return best;
  }

  private GraphProto run(GraphProto graph) {
    fresh = 0;
    producer.clear();
    readers.clear();
    inits.clear();
    names.clear();
    outputs.clear();
    nodes.clear();
    work.clear();
    for (TensorProto t : graph.getInitializerList()) {
      inits.put(t.getName(), t);
      names.add(t.getName());
    }
    for (ValueInfoProto v : graph.getInputList()) names.add(v.getName());
    for (ValueInfoProto v : graph.getOutputList()) outputs.add(v.getName());
    for (NodeProto p : graph.getNodeList()) {
      Node n = newNode(p.toBuilder());
      for (String o : p.getOutputList()) {
        producer.put(o, n);
        names.add(o);
      }
      for (String i : p.getInputList()) if (!i.isEmpty()) readers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
      if (isTranspose(n)) work.add(n);
    }
    if (work.isEmpty()) return graph;
    while (!work.isEmpty()) {
      Node t = work.poll();
      if (t.dead || !isTranspose(t)) continue;
      step(t);
    }
    return rebuild(graph);
  }

  private static boolean isTranspose(Node n) {
    return n.b.getOpType().equals("Transpose") && n.b.getDomain().isEmpty() && n.b.getInputCount() == 1
        && perm(n.b) != null;
  }

  private static int[] perm(NodeProto.Builder b) {
    for (AttributeProto a : b.getAttributeList()) {
      if (a.getName().equals("perm")) {
        int[] p = new int[a.getIntsCount()];
        for (int i = 0; i < p.length; i++) p[i] = (int) a.getInts(i);
        return p;
      }
    }
    return null;
  }

  private static int[] inverse(int[] p) {
    int[] inv = new int[p.length];
    for (int i = 0; i < p.length; i++) inv[p[i]] = i;
    return inv;
  }

  private static boolean isIdentity(int[] p) {
    for (int i = 0; i < p.length; i++) if (p[i] != i) return false;
    return true;
  }

  private List<Node> readersOf(String v) {
    return readers.getOrDefault(v, List.of());
  }

  private void setInput(Node n, int i, String v) {
    String old = n.b.getInput(i);
    List<Node> r = readers.get(old);
    if (r != null) r.remove(n);
    n.b.setInput(i, v);
    readers.computeIfAbsent(v, k -> new ArrayList<>()).add(n);
  }

  private void kill(Node n) {
    n.dead = true;
    for (String i : n.b.getInputList()) {
      List<Node> r = readers.get(i);
      if (r != null) r.remove(n);
      Node p = producer.get(i);
      if (p != null && !p.dead && isTranspose(p)) work.add(p);
    }
  }

  private String freshName(String hint) {
    String n;
    do {
      n = hint + "/t" + fresh++;
    } while (!names.add(n));
    return n;
  }

  /** Makes every reader of value from read value to instead (graph outputs get an Identity). */
  private void replaceUses(String from, String to) {
    for (Node r : new ArrayList<>(readersOf(from))) {
      for (int i = 0; i < r.b.getInputCount(); i++) if (r.b.getInput(i).equals(from)) setInput(r, i, to);
    }
  }

  private void step(Node t) {
    String x = t.b.getInput(0);
    String y = t.b.getOutput(0);
    int[] p = perm(t.b);
    // Unused (and not an output): drop.
    if (readersOf(y).isEmpty() && !outputs.contains(y)) {
      kill(t);
      return;
    }
    // Identity permutation: readers read x; a graph output is produced by x's producer instead.
    if (isIdentity(p)) {
      if (!outputs.contains(y)) {
        replaceUses(y, x);
        kill(t);
        return;
      }
      if (renameOutput(x, t, y)) {
        kill(t);
        return;
      }
    }
    if (foldIntoUnsqueeze(t, p)) return;
    // Compose with transposes reading this one.
    for (Node r : new ArrayList<>(readersOf(y))) {
      if (r.dead || !isTranspose(r)) continue;
      int[] q = perm(r.b);
      if (q.length != p.length) continue;
      int[] pq = new int[p.length];
      for (int i = 0; i < p.length; i++) pq[i] = p[q[i]];
      String ry = r.b.getOutput(0);
      if (isIdentity(pq) && !outputs.contains(ry)) {
        replaceUses(ry, x);
        kill(r);
        for (Node rr : readersOf(x)) if (isTranspose(rr)) work.add(rr);
      } else {
        setInput(r, 0, x);
        setPerm(r, pq);
        work.add(r);
      }
    }
    if (readersOf(y).isEmpty() && !outputs.contains(y)) {
      kill(t);
      return;
    }
    List<Node> rs = distinct(readersOf(y));
    if (rs.size() > 1 && (!allowSeveral || blocked.contains(y))) return;
    rs.sort((a, b) -> Integer.compare(a.idx, b.idx)); // a reader may read an earlier one's output
    List<Plan> plans = new ArrayList<>();
    for (Node c : rs) {
      if (c.dead) return;
      Plan pl = plan(t, p, c, plans);
      if (pl == null) return;
      plans.add(pl);
    }
    if (plans.size() > 1) pushedBelowSeveral.add(y);
    for (Plan pl : plans) pl.apply.run();
    if (readersOf(y).isEmpty() && !outputs.contains(y)) kill(t);
  }

  private static List<Node> distinct(List<Node> rs) {
    List<Node> d = new ArrayList<>();
    Set<Node> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    for (Node r : rs) if (seen.add(r)) d.add(r);
    return d;
  }

  /**
   * Lets x's producer write value y directly when t (reading x) is x's only reader and x is
   * neither a graph input nor output; false when that does not hold.
   */
  private boolean renameOutput(String x, Node t, String y) {
    Node pr = producer.get(x);
    if (pr == null || pr.dead || outputs.contains(x)) return false;
    List<Node> rs = distinct(readersOf(x));
    if (rs.size() != 1 || rs.get(0) != t) return false;
    for (int i = 0; i < pr.b.getOutputCount(); i++) {
      if (pr.b.getOutput(i).equals(x)) {
        pr.b.setOutput(i, y);
        producer.put(y, pr);
        producer.remove(x);
        if (isTranspose(pr)) work.add(pr);
        return true;
      }
    }
    return false;
  }

  /**
   * Transpose(q) of Unsqueeze(v, axes) that keeps v's own axes in order is Unsqueeze(v, axes')
   * alone (NHWC [n,h,w,1] to NCHW [n,1,h,w] is inserting the 1 elsewhere).
   */
  private boolean foldIntoUnsqueeze(Node t, int[] q) {
    String x = t.b.getInput(0);
    Node u = producer.get(x);
    if (u == null || u.dead || !u.b.getOpType().equals("Unsqueeze") || !u.b.getDomain().isEmpty()
        || u.b.getOutputCount() != 1) return false;
    if (outputs.contains(x)) return false;
    List<Node> rs = distinct(readersOf(x));
    if (rs.size() != 1 || rs.get(0) != t) return false;
    long[] axes = axesOf(u);
    if (axes == null) return false;
    int rank = q.length;
    boolean[] inserted = new boolean[rank];
    for (long a : axes) {
      int n = normAxis(a, rank);
      if (n < 0 || inserted[n]) return false;
      inserted[n] = true;
    }
    List<Long> na = new ArrayList<>();
    int last = -1;
    for (int j = 0; j < rank; j++) {
      if (inserted[q[j]]) {
        na.add((long) j);
      } else {
        if (q[j] < last) return false;
        last = q[j];
      }
    }
    long[] newAxes = na.stream().mapToLong(Long::longValue).toArray();
    Runnable edit = axesEdit(u, newAxes);
    if (edit == null) return false;
    edit.run();
    String y = t.b.getOutput(0);
    kill(t);
    u.b.setOutput(0, y);
    producer.put(y, u);
    producer.remove(x);
    Node in = producer.get(u.b.getInput(0));
    if (in != null && !in.dead && isTranspose(in)) work.add(in);
    return true;
  }

  private void setPerm(Node n, int[] p) {
    for (int i = 0; i < n.b.getAttributeCount(); i++) {
      if (n.b.getAttribute(i).getName().equals("perm")) {
        AttributeProto.Builder a = n.b.getAttribute(i).toBuilder().clearInts();
        for (int v : p) a.addInts(v);
        n.b.setAttribute(i, a);
      }
    }
  }

  private static AttributeProto attr(NodeProto.Builder b, String name) {
    for (AttributeProto a : b.getAttributeList()) if (a.getName().equals(name)) return a;
    return null;
  }

  private static void putIntAttr(NodeProto.Builder b, String name, long v) {
    for (int i = 0; i < b.getAttributeCount(); i++) {
      if (b.getAttribute(i).getName().equals(name)) {
        b.setAttribute(i, b.getAttribute(i).toBuilder().setI(v));
        return;
      }
    }
    b.addAttribute(AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v));
  }

  /** An axis in [-rank, rank) made non-negative, or -1 when out of range. */
  private static int normAxis(long a, int rank) {
    long n = a < 0 ? a + rank : a;
    return n < 0 || n >= rank ? -1 : (int) n;
  }

  /** A constant axes input (index 1) or axes attribute; null when absent or computed. */
  private long[] axesOf(Node c) {
    if (c.b.getInputCount() >= 2 && !c.b.getInput(1).isEmpty()) {
      TensorProto a = inits.get(c.b.getInput(1));
      return a == null ? null : ints(a);
    }
    AttributeProto a = attr(c.b, "axes");
    return a == null ? null : a.getIntsList().stream().mapToLong(Long::longValue).toArray();
  }

  /** Sets what axesOf read to new values; null when c has no axes to set. */
  private Runnable axesEdit(Node c, long[] axes) {
    if (c.b.getInputCount() >= 2 && !c.b.getInput(1).isEmpty()) {
      TensorProto old = inits.get(c.b.getInput(1));
      if (old == null) return null;
      String name = newInts(c.b.getInput(1), axes, old.getDataType());
      return () -> setInput(c, 1, name);
    }
    if (attr(c.b, "axes") == null) return null;
    return () -> {
      for (int i = 0; i < c.b.getAttributeCount(); i++) {
        if (c.b.getAttribute(i).getName().equals("axes")) {
          AttributeProto.Builder ab = c.b.getAttribute(i).toBuilder().clearInts();
          for (long v : axes) ab.addInts(v);
          c.b.setAttribute(i, ab);
        }
      }
    };
  }

  /**
   * y = Transpose(x, p) loses the axes marked removed (in y's numbering, as a reduction without
   * keepdims or a Squeeze does): the perm that takes what is left of x to what is left of y.
   */
  private static int[] remainingPerm(int[] p, boolean[] removed) {
    List<Integer> kept = new ArrayList<>();
    for (int i = 0; i < p.length; i++) if (!removed[i]) kept.add(p[i]);
    List<Integer> sorted = new ArrayList<>(kept);
    java.util.Collections.sort(sorted);
    int[] r = new int[kept.size()];
    for (int i = 0; i < r.length; i++) r[i] = sorted.indexOf(kept.get(i));
    return r;
  }

  /** One reader's part of a push: checked, not yet done. */
  private static final class Plan {
    final Node c;
    final int[] outPerm;
    final String inner; // c's output name once it computes in x's layout
    Runnable apply;

    Plan(Node c, int[] outPerm, String inner) {
      this.c = c;
      this.outPerm = outPerm;
      this.inner = inner;
    }
  }

  /**
   * Checks that t (perm p) can move below c, one of its readers, and returns how; null when c
   * does not allow it. An input of c that an earlier planned reader computes (in the same push)
   * with the same perm after it is read in x's layout too.
   */
  private Plan plan(Node t, int[] p, Node c, List<Plan> earlier) {
    String op = c.b.getOpType();
    if (!c.b.getDomain().isEmpty() || c.b.getOutputCount() != 1) return null;
    int rank = p.length;
    String y = t.b.getOutput(0);
    int[] inv = inverse(p);
    int[] outPerm = p;
    // Which inputs are layout-carrying (must be y, a matching transpose, or a constant).
    boolean[] carry = new boolean[c.b.getInputCount()];
    List<Runnable> edits = new ArrayList<>();
    if (UNARY.contains(op)) {
      carry[0] = true;
      if ((op.equals("QuantizeLinear") || op.equals("DequantizeLinear"))) {
        for (int i = 1; i < carry.length; i++) if (!isScalarConst(c.b.getInput(i))) return null;
      } else if (op.equals("Clip")) {
        for (int i = 1; i < carry.length; i++) if (!c.b.getInput(i).isEmpty() && !isScalarConst(c.b.getInput(i))) return null;
      } else if (carry.length != 1) {
        return null;
      }
    } else if (BROADCAST.contains(op)) {
      java.util.Arrays.fill(carry, true);
    } else if (op.equals("Concat")) {
      java.util.Arrays.fill(carry, true);
      AttributeProto a = attr(c.b, "axis");
      if (a == null) return null;
      int axis = normAxis(a.getI(), rank);
      if (axis < 0) return null;
      edits.add(() -> putIntAttr(c.b, "axis", p[axis]));
    } else if (op.equals("Softmax") || op.equals("LogSoftmax")) {
      carry[0] = true;
      AttributeProto a = attr(c.b, "axis");
      int axis = normAxis(a == null ? -1 : a.getI(), rank);
      if (axis < 0) return null;
      edits.add(() -> putIntAttr(c.b, "axis", p[axis]));
    } else if (op.equals("ArgMax") || op.equals("ArgMin")) {
      carry[0] = true;
      AttributeProto a = attr(c.b, "axis");
      int axis = normAxis(a == null ? 0 : a.getI(), rank);
      if (axis < 0) return null;
      AttributeProto kd = attr(c.b, "keepdims");
      if (kd != null && kd.getI() == 0) {
        boolean[] removed = new boolean[rank];
        removed[axis] = true;
        outPerm = remainingPerm(p, removed);
      }
      edits.add(() -> putIntAttr(c.b, "axis", p[axis]));
    } else if (op.equals("Pad")) {
      carry[0] = true;
      if (c.b.getInputCount() < 2 || c.b.getInputCount() > 3) return null;
      if (c.b.getInputCount() == 3 && !c.b.getInput(2).isEmpty() && !isScalarConst(c.b.getInput(2))) return null;
      if (attr(c.b, "pads") != null) return null;
      TensorProto pads = inits.get(c.b.getInput(1));
      long[] v = pads == null ? null : ints(pads);
      if (v == null || v.length != 2 * rank) return null;
      long[] nv = new long[2 * rank];
      for (int i = 0; i < rank; i++) {
        nv[p[i]] = v[i];
        nv[rank + p[i]] = v[rank + i];
      }
      String name = newInts(c.b.getInput(1), nv, TensorProto.DataType.INT64_VALUE);
      edits.add(() -> setInput(c, 1, name));
    } else if (REDUCE.contains(op)) {
      carry[0] = true;
      long[] axes = axesOf(c);
      if (axes == null || axes.length == 0) return null; // all axes: fine either way, but keep it simple
      AttributeProto kd = attr(c.b, "keepdims");
      boolean keep = kd == null || kd.getI() != 0;
      long[] nAxes = new long[axes.length];
      boolean[] reduced = new boolean[rank];
      for (int i = 0; i < axes.length; i++) {
        int a = normAxis(axes[i], rank);
        if (a < 0) return null;
        nAxes[i] = p[a];
        reduced[a] = true;
      }
      if (!keep) outPerm = remainingPerm(p, reduced);
      Runnable e = axesEdit(c, nAxes);
      if (e == null) return null;
      edits.add(e);
    } else if (op.equals("Squeeze")) {
      carry[0] = true;
      long[] axes = axesOf(c);
      if (axes == null || axes.length == 0) return null; // which axes are 1 is not known here
      long[] nAxes = new long[axes.length];
      boolean[] removed = new boolean[rank];
      for (int i = 0; i < axes.length; i++) {
        int a = normAxis(axes[i], rank);
        if (a < 0) return null;
        nAxes[i] = p[a];
        removed[a] = true;
      }
      outPerm = remainingPerm(p, removed);
      Runnable e = axesEdit(c, nAxes);
      if (e == null) return null;
      edits.add(e);
    } else if (op.equals("Unsqueeze")) {
      // Same axes inserted; the output perm keeps them in place and permutes the others.
      carry[0] = true;
      long[] axes = axesOf(c);
      if (axes == null) return null;
      int r = rank + axes.length;
      boolean[] inserted = new boolean[r];
      for (long a : axes) {
        int n = normAxis(a, r);
        if (n < 0 || inserted[n]) return null;
        inserted[n] = true;
      }
      int[] pos = new int[rank]; // where each input axis lands
      int k = 0;
      for (int j = 0; j < r; j++) if (!inserted[j]) pos[k++] = j;
      int[] q = new int[r];
      for (int j = 0; j < r; j++) q[j] = j;
      for (int i = 0; i < rank; i++) q[pos[i]] = pos[p[i]];
      outPerm = q;
    } else if (op.equals("Slice")) {
      carry[0] = true;
      int n = c.b.getInputCount();
      if (n < 3) return null;
      boolean hasAxes = n >= 4 && !c.b.getInput(3).isEmpty();
      TensorProto k = inits.get(c.b.getInput(hasAxes ? 3 : 1));
      long[] v = k == null ? null : ints(k);
      if (v == null) return null;
      long[] nAxes = new long[v.length];
      for (int i = 0; i < v.length; i++) {
        int a = normAxis(hasAxes ? v[i] : i, rank);
        if (a < 0) return null;
        nAxes[i] = p[a];
      }
      String name = newInts(c.b.getInput(hasAxes ? 3 : 1) + "/axes", nAxes, k.getDataType());
      edits.add(() -> {
        if (c.b.getInputCount() >= 4) {
          setInput(c, 3, name);
        } else {
          c.b.addInput(name);
          readers.computeIfAbsent(name, kk -> new ArrayList<>()).add(c);
        }
      });
    } else if (op.equals("Resize")) {
      // roi, scales and sizes hold one value (roi: two) per axis: permuted like the data.
      carry[0] = true;
      if (attr(c.b, "axes") != null) return null;
      AttributeProto m = attr(c.b, "mode");
      String mode = m == null ? "nearest" : m.getS().toStringUtf8();
      float[] scales = null;
      for (int i = 1; i < c.b.getInputCount() && i <= 3; i++) {
        String in = c.b.getInput(i);
        if (in.isEmpty()) continue;
        TensorProto k = inits.get(in);
        if (k == null) return null;
        long count = numElements(k);
        if (count == 0) continue;
        int halves = i == 1 ? 2 : 1;
        if (k.getDimsCount() != 1 || count != (long) halves * rank || !k.hasRawData()) return null;
        if (i == 2) {
          if (k.getDataType() != TensorProto.DataType.FLOAT_VALUE) return null;
          scales = floats(k);
        }
        String name = permuteVector(k, p, halves);
        int at = i;
        edits.add(() -> setInput(c, at, name));
      }
      if (!mode.equals("nearest")) {
        // Linear and cubic kernels take only some layouts (ORT: the two outer axes kept, or
        // NHWC): with sizes, which axes change is not known here.
        if (scales == null) return null;
        boolean[] changed = new boolean[rank];
        for (int i = 0; i < rank; i++) if (scales[i] != 1f) changed[p[i]] = true;
        if (!interpolatable(changed)) return null;
      }
    } else {
      return null;
    }
    // Check every layout-carrying input first.
    String[] replacement = new String[carry.length];
    for (int i = 0; i < carry.length; i++) {
      if (!carry[i]) continue;
      String in = c.b.getInput(i);
      if (in.isEmpty()) continue;
      if (in.equals(y)) {
        replacement[i] = t.b.getInput(0);
        continue;
      }
      Node pr = producer.get(in);
      if (pr != null && !pr.dead && isTranspose(pr) && java.util.Arrays.equals(perm(pr.b), p)) {
        replacement[i] = pr.b.getInput(0);
        continue;
      }
      Plan before = null;
      for (Plan e : earlier) if (e.c == pr && java.util.Arrays.equals(e.outPerm, p)) before = e;
      if (before != null) {
        replacement[i] = before.inner;
        continue;
      }
      TensorProto k = inits.get(in);
      if (k == null) {
        // A computed value already transposed the other way for another reader (a residual
        // input that also feeds a convolution) is read in that layout.
        String other = inverseTransposeOf(in, inv);
        if (other == null) return null;
        replacement[i] = other;
        continue;
      }
      if (!k.hasRawData() || k.getDimsCount() > rank) return null;
      replacement[i] = in; // permuted below
    }
    String out = c.b.getOutput(0);
    Plan plan = new Plan(c, outPerm, freshName(out));
    plan.apply = () -> {
      for (Runnable e : edits) e.run();
      for (int i = 0; i < carry.length; i++) {
        if (replacement[i] == null) continue;
        String in = c.b.getInput(i);
        if (inits.containsKey(in) && !in.equals(y)) {
          TensorProto k = inits.get(in);
          if (!isScalarShape(k)) setInput(c, i, permuteConst(k, rank, inv));
          continue;
        }
        Node pr = producer.get(in);
        setInput(c, i, replacement[i]);
        if (pr != null && pr != t) work.add(pr);
      }
      // c now computes in x's layout; its old output is restored by a transpose after it.
      String inner = plan.inner;
      c.b.setOutput(0, inner);
      producer.put(inner, c);
      NodeProto.Builder nt = NodeProto.newBuilder().setOpType("Transpose").setName(freshName("push/" + out))
          .addInput(inner).addOutput(out)
          .addAttribute(AttributeProto.newBuilder().setName("perm").setType(AttributeProto.AttributeType.INTS)
              .addAllInts(java.util.Arrays.stream(plan.outPerm).mapToObj(v -> (long) v).toList()));
      Node tn = newNode(nt);
      producer.put(out, tn);
      readers.computeIfAbsent(inner, kk -> new ArrayList<>()).add(tn);
      work.add(tn);
    };
    return plan;
  }

  /** Whether a linear or cubic Resize changing these axes is one runtimes take. */
  private static boolean interpolatable(boolean[] changed) {
    int r = changed.length;
    boolean outerKept = true;
    for (int i = 0; i < r - 2; i++) if (changed[i]) outerKept = false;
    if (outerKept) return true;
    return r == 4 && !changed[0] && !changed[3];
  }

  /** The output of a live Transpose(perm) reading v, or null. */
  private String inverseTransposeOf(String v, int[] perm) {
    for (Node r : readersOf(v)) {
      if (!r.dead && isTranspose(r) && java.util.Arrays.equals(perm(r.b), perm)) return r.b.getOutput(0);
    }
    return null;
  }

  private boolean isScalarConst(String v) {
    TensorProto k = inits.get(v);
    return k != null && isScalarShape(k);
  }

  private static boolean isScalarShape(TensorProto k) {
    for (long d : k.getDimsList()) if (d != 1) return false;
    return true;
  }

  private static long numElements(TensorProto t) {
    long n = 1;
    for (long d : t.getDimsList()) n *= d;
    return n;
  }

  /** The values of an int64 or int32 constant; null for other types. */
  private static long[] ints(TensorProto t) {
    int n = (int) numElements(t);
    if (t.getDataType() == TensorProto.DataType.INT64_VALUE) {
      if (!t.hasRawData()) return t.getInt64DataCount() == n ? t.getInt64DataList().stream().mapToLong(Long::longValue).toArray() : null;
      ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN);
      if (b.remaining() != 8 * n) return null;
      long[] r = new long[n];
      for (int i = 0; i < n; i++) r[i] = b.getLong(i * 8);
      return r;
    }
    if (t.getDataType() == TensorProto.DataType.INT32_VALUE) {
      if (!t.hasRawData()) return t.getInt32DataCount() == n ? t.getInt32DataList().stream().mapToLong(Integer::longValue).toArray() : null;
      ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN);
      if (b.remaining() != 4 * n) return null;
      long[] r = new long[n];
      for (int i = 0; i < n; i++) r[i] = b.getInt(i * 4);
      return r;
    }
    return null;
  }

  private static float[] floats(TensorProto t) {
    ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN);
    float[] r = new float[b.remaining() / 4];
    for (int i = 0; i < r.length; i++) r[i] = b.getFloat(i * 4);
    return r;
  }

  /** A new 1-D initializer of int64 (or int32, when dtype says so) values. */
  private String newInts(String hint, long[] v, int dtype) {
    boolean i32 = dtype == TensorProto.DataType.INT32_VALUE;
    ByteBuffer b = ByteBuffer.allocate(v.length * (i32 ? 4 : 8)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      if (i32) b.putInt((int) x);
      else b.putLong(x);
    }
    b.flip();
    String name = freshName(hint);
    inits.put(name, TensorProto.newBuilder().setName(name)
        .setDataType(i32 ? TensorProto.DataType.INT32_VALUE : TensorProto.DataType.INT64_VALUE)
        .addDims(v.length).setRawData(ByteString.copyFrom(b)).build());
    return name;
  }

  /**
   * A new initializer from a vector of halves x rank per-axis values of y's layout (roi: starts
   * then ends), in x's layout: value i of each half moves to position p[i].
   */
  private String permuteVector(TensorProto k, int[] p, int halves) {
    int rank = p.length;
    int es = elemSize(k.getDataType());
    byte[] src = k.getRawData().toByteArray();
    byte[] dst = new byte[src.length];
    for (int h = 0; h < halves; h++) {
      for (int i = 0; i < rank; i++) System.arraycopy(src, (h * rank + i) * es, dst, (h * rank + p[i]) * es, es);
    }
    String name = freshName(k.getName());
    inits.put(name, k.toBuilder().setName(name).setRawData(ByteString.copyFrom(dst)).build());
    return name;
  }

  private static int elemSize(int type) {
    switch (type) {
      case TensorProto.DataType.DOUBLE_VALUE: case TensorProto.DataType.INT64_VALUE: case TensorProto.DataType.UINT64_VALUE:
        return 8;
      case TensorProto.DataType.FLOAT_VALUE: case TensorProto.DataType.INT32_VALUE: case TensorProto.DataType.UINT32_VALUE:
        return 4;
      case TensorProto.DataType.FLOAT16_VALUE: case TensorProto.DataType.BFLOAT16_VALUE:
      case TensorProto.DataType.INT16_VALUE: case TensorProto.DataType.UINT16_VALUE:
        return 2;
      default:
        return 1;
    }
  }

  /** A new initializer: k aligned to rank (leading 1s) and transposed by perm. */
  private String permuteConst(TensorProto k, int rank, int[] perm) {
    long[] shape = new long[rank];
    java.util.Arrays.fill(shape, 1);
    int off = rank - k.getDimsCount();
    for (int i = 0; i < k.getDimsCount(); i++) shape[off + i] = k.getDims(i);
    long[] outShape = new long[rank];
    for (int i = 0; i < rank; i++) outShape[i] = shape[perm[i]];
    int es = elemSize(k.getDataType());
    byte[] src = k.getRawData().toByteArray();
    byte[] dst = new byte[src.length];
    long[] strides = new long[rank];
    long acc = 1;
    for (int i = rank - 1; i >= 0; i--) {
      strides[i] = acc;
      acc *= shape[i];
    }
    long n = acc;
    int[] idx = new int[rank];
    for (long e = 0; e < n; e++) {
      long at = 0;
      for (int i = 0; i < rank; i++) at += idx[i] * strides[perm[i]];
      System.arraycopy(src, (int) (at * es), dst, (int) (e * es), es);
      for (int i = rank - 1; i >= 0; i--) {
        if (++idx[i] < outShape[i]) break;
        idx[i] = 0;
      }
    }
    String name = freshName(k.getName());
    TensorProto.Builder b = k.toBuilder().setName(name).clearDims().setRawData(ByteString.copyFrom(dst));
    for (long d : outShape) b.addDims(d);
    inits.put(name, b.build());
    return name;
  }

  /** Live nodes in topological order; initializers that are still read. */
  private GraphProto rebuild(GraphProto graph) {
    Map<Node, Integer> pending = new IdentityHashMap<>();
    Deque<Node> ready = new ArrayDeque<>();
    for (Node n : nodes) {
      if (n.dead) continue;
      int k = 0;
      for (String i : n.b.getInputList()) {
        Node p = producer.get(i);
        if (p != null && !p.dead && p != n) k++;
      }
      pending.put(n, k);
      if (k == 0) ready.add(n);
    }
    List<NodeProto> out = new ArrayList<>();
    Set<String> used = new HashSet<>();
    while (!ready.isEmpty()) {
      Node n = ready.poll();
      NodeProto built = n.b.build();
      out.add(built);
      used.addAll(built.getInputList());
      for (String o : built.getOutputList()) {
        for (Node r : readersOf(o)) {
          if (r.dead) continue;
          Integer k = pending.get(r);
          if (k == null) continue;
          // a reader may read the same value more than once; count each edge
          pending.put(r, k - 1);
          if (k - 1 == 0) ready.add(r);
        }
      }
    }
    if (out.size() != pending.size()) throw new IllegalStateException("transpose-push left a cycle");
    List<TensorProto> keep = new ArrayList<>();
    for (TensorProto t : graph.getInitializerList()) if (used.contains(t.getName())) keep.add(t);
    Set<String> original = new HashSet<>();
    for (TensorProto t : graph.getInitializerList()) original.add(t.getName());
    for (Map.Entry<String, TensorProto> e : inits.entrySet()) {
      if (!original.contains(e.getKey()) && used.contains(e.getKey())) keep.add(e.getValue());
    }
    return graph.toBuilder().clearNode().addAllNode(out).clearInitializer().addAllInitializer(keep).build();
  }
}
