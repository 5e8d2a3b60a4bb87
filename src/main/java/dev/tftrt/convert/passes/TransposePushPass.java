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
 * the graph, so it ends):
 * <ul>
 *   <li>Transpose(q) of Transpose(p) becomes one Transpose(p then q), or nothing when that is
 *       the identity.
 *   <li>A Transpose(p) whose only reader (besides inverse transposes, cancelled first) is an
 *       element-wise op is moved below it when each other input of that op is a Transpose(p)
 *       too, or a constant (permuted at conversion time; lower-rank constants broadcast as
 *       NumPy aligns them), or a scalar, or a value that some other reader already transposes
 *       the inverse way (used as is). Concat, Softmax/LogSoftmax, Pad and the Reduce ops
 *       are element-wise up to an axis attribute or input, which is permuted along.
 * </ul>
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
    boolean dead;

    Node(NodeProto.Builder b) {
      this.b = b;
    }
  }

  private final Map<String, Node> producer = new HashMap<>();
  private final Map<String, List<Node>> readers = new HashMap<>();
  private final Map<String, TensorProto> inits = new HashMap<>();
  private final Set<String> names = new HashSet<>();
  private final Set<String> outputs = new HashSet<>();
  private final List<Node> nodes = new ArrayList<>();
  private final Deque<Node> work = new ArrayDeque<>();
  private int fresh;

  @Override
  public GraphProto apply(GraphProto graph) {
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
      Node n = new Node(p.toBuilder());
      nodes.add(n);
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
    // Identity permutation.
    if (isIdentity(p) && !outputs.contains(y)) {
      replaceUses(y, x);
      kill(t);
      return;
    }
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
    List<Node> rs = readersOf(y);
    if (rs.size() != 1 && !allSame(rs)) return;
    Node c = rs.get(0);
    if (c.dead) return;
    pushThrough(t, p, c);
  }

  private static boolean allSame(List<Node> rs) {
    for (Node r : rs) if (r != rs.get(0)) return false;
    return !rs.isEmpty();
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

  /** Moves t (perm p) below c, its only reader, when c allows it. */
  private void pushThrough(Node t, int[] p, Node c) {
    String op = c.b.getOpType();
    if (!c.b.getDomain().isEmpty() || c.b.getOutputCount() != 1) return;
    int rank = p.length;
    String y = t.b.getOutput(0);
    int[] inv = inverse(p);
    int[] outPerm = p;
    // Which inputs are layout-carrying (must be y, a matching transpose, or a constant).
    boolean[] carry = new boolean[c.b.getInputCount()];
    Runnable attrs = () -> {};
    if (UNARY.contains(op)) {
      carry[0] = true;
      if ((op.equals("QuantizeLinear") || op.equals("DequantizeLinear"))) {
        for (int i = 1; i < carry.length; i++) if (!isScalarConst(c.b.getInput(i))) return;
      } else if (op.equals("Clip")) {
        for (int i = 1; i < carry.length; i++) if (!c.b.getInput(i).isEmpty() && !isScalarConst(c.b.getInput(i))) return;
      } else if (carry.length != 1) {
        return;
      }
    } else if (BROADCAST.contains(op)) {
      java.util.Arrays.fill(carry, true);
    } else if (op.equals("Concat")) {
      java.util.Arrays.fill(carry, true);
      AttributeProto a = attr(c.b, "axis");
      if (a == null) return;
      int axis = (int) (a.getI() < 0 ? a.getI() + rank : a.getI());
      attrs = () -> putIntAttr(c.b, "axis", p[axis]);
    } else if (op.equals("Softmax") || op.equals("LogSoftmax")) {
      carry[0] = true;
      AttributeProto a = attr(c.b, "axis");
      int axis = a == null ? rank - 1 : (int) (a.getI() < 0 ? a.getI() + rank : a.getI());
      attrs = () -> putIntAttr(c.b, "axis", p[axis]);
    } else if (op.equals("Pad")) {
      carry[0] = true;
      if (c.b.getInputCount() < 2 || c.b.getInputCount() > 3) return;
      if (c.b.getInputCount() == 3 && !c.b.getInput(2).isEmpty() && !isScalarConst(c.b.getInput(2))) return;
      if (attr(c.b, "pads") != null) return;
      TensorProto pads = inits.get(c.b.getInput(1));
      if (pads == null || pads.getDataType() != TensorProto.DataType.INT64_VALUE || !pads.hasRawData()
          || pads.getRawData().size() != 16 * rank) return;
      long[] v = longs(pads);
      long[] nv = new long[2 * rank];
      for (int i = 0; i < rank; i++) {
        nv[p[i]] = v[i];
        nv[rank + p[i]] = v[rank + i];
      }
      String name = newLongs(c.b.getInput(1), nv);
      attrs = () -> setInput(c, 1, name);
    } else if (REDUCE.contains(op)) {
      carry[0] = true;
      long[] axes;
      boolean axesInput = c.b.getInputCount() >= 2 && !c.b.getInput(1).isEmpty();
      if (axesInput) {
        TensorProto a = inits.get(c.b.getInput(1));
        if (a == null || a.getDataType() != TensorProto.DataType.INT64_VALUE || !a.hasRawData()) return;
        axes = longs(a);
      } else {
        AttributeProto a = attr(c.b, "axes");
        if (a == null) return; // all axes: fine either way, but keep it simple
        axes = a.getIntsList().stream().mapToLong(Long::longValue).toArray();
      }
      if (axes.length == 0) return;
      AttributeProto kd = attr(c.b, "keepdims");
      boolean keep = kd == null || kd.getI() != 0;
      long[] nAxes = new long[axes.length];
      boolean[] reduced = new boolean[rank];
      for (int i = 0; i < axes.length; i++) {
        int a = (int) (axes[i] < 0 ? axes[i] + rank : axes[i]);
        nAxes[i] = p[a];
        reduced[a] = true;
      }
      if (!keep) {
        // Remaining y axes in order; each maps to x axis p[i]; rank them among remaining x axes.
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < rank; i++) if (!reduced[i]) kept.add(p[i]);
        List<Integer> sorted = new ArrayList<>(kept);
        java.util.Collections.sort(sorted);
        outPerm = new int[kept.size()];
        for (int i = 0; i < kept.size(); i++) outPerm[i] = sorted.indexOf(kept.get(i));
      }
      if (axesInput) {
        String name = newLongs(c.b.getInput(1), nAxes);
        attrs = () -> setInput(c, 1, name);
      } else {
        attrs = () -> {
          for (int i = 0; i < c.b.getAttributeCount(); i++) {
            if (c.b.getAttribute(i).getName().equals("axes")) {
              AttributeProto.Builder ab = c.b.getAttribute(i).toBuilder().clearInts();
              for (long v : nAxes) ab.addInts(v);
              c.b.setAttribute(i, ab);
            }
          }
        };
      }
    } else {
      return;
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
      TensorProto k = inits.get(in);
      if (k == null) {
        // A computed value already transposed the other way for another reader (a residual
        // input that also feeds a convolution) is read in that layout.
        String other = inverseTransposeOf(in, inv);
        if (other == null) return;
        replacement[i] = other;
        continue;
      }
      if (!k.hasRawData() || k.getDimsCount() > rank) return;
      replacement[i] = in; // permuted below
    }
    attrs.run();
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
    String out = c.b.getOutput(0);
    String inner = freshName(out);
    c.b.setOutput(0, inner);
    producer.put(inner, c);
    NodeProto.Builder nt = NodeProto.newBuilder().setOpType("Transpose").setName(freshName("push/" + out))
        .addInput(inner).addOutput(out)
        .addAttribute(AttributeProto.newBuilder().setName("perm").setType(AttributeProto.AttributeType.INTS)
            .addAllInts(java.util.Arrays.stream(outPerm).mapToObj(v -> (long) v).toList()));
    Node tn = new Node(nt);
    nodes.add(tn);
    producer.put(out, tn);
    readers.computeIfAbsent(inner, k -> new ArrayList<>()).add(tn);
    if (readersOf(y).isEmpty() && !outputs.contains(y)) kill(t);
    work.add(tn);
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

  private static long[] longs(TensorProto t) {
    ByteBuffer b = t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN);
    long[] r = new long[b.remaining() / 8];
    for (int i = 0; i < r.length; i++) r[i] = b.getLong(i * 8);
    return r;
  }

  private String newLongs(String hint, long[] v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (long x : v) b.putLong(x);
    b.flip();
    String name = freshName(hint);
    inits.put(name, TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE)
        .addDims(v.length).setRawData(ByteString.copyFrom(b)).build());
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
