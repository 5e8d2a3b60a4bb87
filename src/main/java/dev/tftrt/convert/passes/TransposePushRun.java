package dev.tftrt.convert.passes;

import dev.tftrt.convert.onnx.AttributeProto;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import dev.tftrt.convert.passes.push.Absorb;
import dev.tftrt.convert.passes.push.Axes;
import dev.tftrt.convert.passes.push.PushRule;
import dev.tftrt.convert.passes.push.PushRules;
import dev.tftrt.convert.passes.push.PushSite;
import dev.tftrt.convert.passes.push.Tensors;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One application of {@link TransposePushPass}'s rules to one graph: the index of producers and
 * readers, the worklist and the names taken all live here, so the pass object itself holds no
 * state and one instance may run on any number of graphs at once.
 */
final class TransposePushRun {
  private final boolean allowSeveral;
  /** Values (transpose outputs) not pushed below several readers in this run. */
  private final Set<String> blocked;
  /** Values pushed below several readers in this run, in order. */
  private final Set<String> pushedBelowSeveral = new java.util.LinkedHashSet<>();
  private boolean ran;

  TransposePushRun(boolean allowSeveral, Set<String> blocked) {
    this.allowSeveral = allowSeveral;
    this.blocked = Set.copyOf(blocked);
  }

  /** After {@link #run}: the values it pushed below several readers. */
  List<String> pushedBelowSeveral() {
    return List.copyOf(pushedBelowSeveral);
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

  /** Runs the rules on graph: the rewritten graph, or graph itself when it has no transpose. */
  GraphProto run(GraphProto graph) {
    if (ran) throw new IllegalStateException("a TransposePushRun runs once");
    ran = true;
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
    PushSite us = new Site(u);
    long[] axes = us.axes();
    if (axes == null) return false;
    int rank = q.length;
    boolean[] inserted = new boolean[rank];
    for (long a : axes) {
      int n = Axes.normAxis(a, rank);
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
    Runnable edit = us.axesEdit(newAxes);
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

  /** A node as the push rules see it: edits go through the pass's reader index. */
  private final class Site implements PushSite {
    private final Node c;

    Site(Node c) {
      this.c = c;
    }

    @Override
    public NodeProto.Builder node() {
      return c.b;
    }

    @Override
    public TensorProto constant(String v) {
      return inits.get(v);
    }

    @Override
    public String addConstant(String hint, TensorProto t) {
      String name = freshName(hint);
      inits.put(name, t.toBuilder().setName(name).build());
      return name;
    }

    @Override
    public void setInput(int i, String v) {
      TransposePushRun.this.setInput(c, i, v);
    }

    @Override
    public void addInput(String v) {
      c.b.addInput(v);
      readers.computeIfAbsent(v, k -> new ArrayList<>()).add(c);
    }
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
   * does not allow it (its op's {@link PushRule} says what it takes). An input of c that an
   * earlier planned reader computes (in the same push) with the same perm after it is read in
   * x's layout too.
   */
  private Plan plan(Node t, int[] p, Node c, List<Plan> earlier) {
    if (!c.b.getDomain().isEmpty() || c.b.getOutputCount() != 1) return null;
    PushRule rule = PushRules.forOp(c.b.getOpType());
    if (rule == null) return null;
    Absorb how = rule.absorb(new Site(c), p);
    if (how == null) return null;
    int rank = p.length;
    String y = t.b.getOutput(0);
    int[] inv = inverse(p);
    // Check every layout-carrying input first (must be y, a matching transpose, or a constant).
    String[] replacement = new String[how.inputs()];
    for (int i = 0; i < replacement.length; i++) {
      if (!how.carries(i)) continue;
      String in = c.b.getInput(i);
      if (in.isEmpty()) continue;
      if (in.equals(y)) {
        replacement[i] = t.b.getInput(0);
        continue;
      }
      Node pr = producer.get(in);
      if (pr != null && !pr.dead && isTranspose(pr) && Arrays.equals(perm(pr.b), p)) {
        replacement[i] = pr.b.getInput(0);
        continue;
      }
      Plan before = null;
      for (Plan e : earlier) if (e.c == pr && Arrays.equals(e.outPerm, p)) before = e;
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
    Plan plan = new Plan(c, how.outPerm(), freshName(out));
    plan.apply = () -> {
      how.runEdits();
      for (int i = 0; i < replacement.length; i++) {
        if (replacement[i] == null) continue;
        String in = c.b.getInput(i);
        if (inits.containsKey(in) && !in.equals(y)) {
          TensorProto k = inits.get(in);
          if (!Tensors.isScalarShape(k)) setInput(c, i, permuteConst(k, rank, inv));
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
              .addAllInts(Arrays.stream(plan.outPerm).mapToObj(v -> (long) v).toList()));
      Node tn = newNode(nt);
      producer.put(out, tn);
      readers.computeIfAbsent(inner, kk -> new ArrayList<>()).add(tn);
      work.add(tn);
    };
    return plan;
  }

  /** The output of a live Transpose(perm) reading v, or null. */
  private String inverseTransposeOf(String v, int[] perm) {
    for (Node r : readersOf(v)) {
      if (!r.dead && isTranspose(r) && Arrays.equals(perm(r.b), perm)) return r.b.getOutput(0);
    }
    return null;
  }

  /** A new initializer: k aligned to rank (leading 1s) and transposed by perm. */
  private String permuteConst(TensorProto k, int rank, int[] perm) {
    String name = freshName(k.getName());
    inits.put(name, Tensors.transposed(k, rank, perm).toBuilder().setName(name).build());
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
