package dev.tftrt.optimize;

import dev.tftrt.model.OpDefs;
import dev.tftrt.model.TensorNames;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.TensorProtos;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;

/**
 * A small mutable graph over a GraphDef for optimizer passes: nodes by name (in the GraphDef's
 * order, new nodes appended), data and control edges, consumers of every node, a topological
 * order. Built from a GraphDef and turned back into a new one; the GraphDef it came from is
 * never changed (NodeDefs are immutable, so the copy is cheap).
 *
 * <p>Edges are kept in the node's input list as GraphDef writes them ("a", "a:1", "^a"); this
 * class keeps a node's data inputs before its control inputs, as TensorFlow requires.
 */
public final class NodeGraph {
  /** Ops of TF1 control flow: passes leave edges into and out of them alone. */
  public static final Set<String> CONTROL_FLOW = Set.of("Switch", "RefSwitch", "Merge", "RefMerge",
      "Enter", "RefEnter", "Exit", "RefExit", "NextIteration", "RefNextIteration", "LoopCond",
      "ControlTrigger");

  private static final Set<String> PASS_THROUGH = Set.of("Identity", "Snapshot", "StopGradient");

  private final GraphDef template; // versions and library are carried over unchanged
  private final LinkedHashMap<String, NodeDef> nodes = new LinkedHashMap<>();
  /** Node name -> names of nodes with at least one (data or control) input from it. */
  private final Map<String, Set<String>> consumers = new HashMap<>();

  private NodeGraph(GraphDef g) {
    this.template = g;
    for (NodeDef n : g.getNodeList()) nodes.put(n.getName(), n);
    for (NodeDef n : g.getNodeList()) index(n);
  }

  public static NodeGraph of(GraphDef g) {
    return new NodeGraph(g);
  }

  /**
   * A new GraphDef with the current nodes (the original's versions and function library kept).
   * Colocation hints ("_class": "loc:@x") naming nodes no longer present are dropped, since
   * TensorFlow refuses to import a graph whose nodes are colocated with unknown nodes.
   */
  public GraphDef toGraphDef() {
    GraphDef.Builder b = template.toBuilder().clearNode();
    for (NodeDef n : nodes.values()) b.addNode(withValidColocation(n));
    return b.build();
  }

  private NodeDef withValidColocation(NodeDef n) {
    AttrValue c = n.getAttrMap().get("_class");
    if (c == null) return n;
    List<com.google.protobuf.ByteString> kept = new ArrayList<>();
    for (com.google.protobuf.ByteString s : c.getList().getSList()) {
      String v = s.toStringUtf8();
      if (!v.startsWith("loc:@") || nodes.containsKey(v.substring(5))) kept.add(s);
    }
    if (kept.size() == c.getList().getSCount()) return n;
    NodeDef.Builder nb = n.toBuilder();
    if (kept.isEmpty()) {
      nb.removeAttr("_class");
    } else {
      nb.putAttr("_class", AttrValue.newBuilder()
          .setList(AttrValue.ListValue.newBuilder().addAllS(kept)).build());
    }
    return nb.build();
  }

  // ------------------------------------------------------------------ reading

  public int size() {
    return nodes.size();
  }

  public boolean contains(String name) {
    return nodes.containsKey(name);
  }

  public NodeDef node(String name) {
    return nodes.get(name);
  }

  /** A snapshot of the nodes in order; safe to iterate while changing the graph. */
  public List<NodeDef> nodes() {
    return new ArrayList<>(nodes.values());
  }

  public static List<String> dataInputs(NodeDef n) {
    List<String> r = new ArrayList<>();
    for (String in : n.getInputList()) if (!TensorNames.isControl(in)) r.add(in);
    return r;
  }

  /** The node names of n's control inputs (without "^"). */
  public static List<String> controlInputs(NodeDef n) {
    List<String> r = new ArrayList<>();
    for (String in : n.getInputList()) if (TensorNames.isControl(in)) r.add(in.substring(1));
    return r;
  }

  /** Nodes with any input (data or control) from this node. */
  public Set<String> consumerNodes(String node) {
    Set<String> c = consumers.get(node);
    return c == null ? Set.of() : new LinkedHashSet<>(c);
  }

  /** Nodes with a control input from this node. */
  public List<String> controlConsumers(String node) {
    List<String> r = new ArrayList<>();
    for (String c : consumerNodes(node)) {
      if (nodes.get(c).getInputList().contains("^" + node)) r.add(c);
    }
    return r;
  }

  /** One data edge: consumer's data input number {@code slot} reads {@code tensor}. */
  public record Edge(String consumer, int slot, String tensor) {}

  /** The data edges reading any output of the node. */
  public List<Edge> dataConsumers(String node) {
    List<Edge> r = new ArrayList<>();
    for (String c : consumerNodes(node)) {
      int slot = 0;
      for (String in : nodes.get(c).getInputList()) {
        if (TensorNames.isControl(in)) continue;
        if (TensorNames.node(in).equals(node)) r.add(new Edge(c, slot, TensorNames.canonical(in)));
        slot++;
      }
    }
    return r;
  }

  /** The data edges reading one tensor ("node:i" or "node"). */
  public List<Edge> dataConsumersOf(String tensor) {
    String t = TensorNames.canonical(tensor);
    List<Edge> r = new ArrayList<>();
    for (Edge e : dataConsumers(TensorNames.node(t))) if (e.tensor().equals(t)) r.add(e);
    return r;
  }

  /** The output indices of the node that some data edge reads. */
  public Set<Integer> consumedOutputs(String node) {
    Set<Integer> r = new HashSet<>();
    for (Edge e : dataConsumers(node)) r.add(TensorNames.index(e.tensor()));
    return r;
  }

  public boolean hasConsumers(String node) {
    Set<String> c = consumers.get(node);
    return c != null && !c.isEmpty();
  }

  /**
   * The nodes in an order where every node comes after its inputs (data and control). Edges
   * from NextIteration (the back edges of TF1 loops) are ignored so loops do not block the
   * order; nodes on any other cycle are appended at the end in graph order.
   */
  public List<String> topologicalOrder() {
    Map<String, Integer> pending = new HashMap<>();
    Map<String, List<String>> out = new HashMap<>();
    for (NodeDef n : nodes.values()) {
      int count = 0;
      for (String in : n.getInputList()) {
        String src = TensorNames.node(in);
        NodeDef s = nodes.get(src);
        if (s == null || s.getOp().endsWith("NextIteration")) continue;
        count++;
        out.computeIfAbsent(src, k -> new ArrayList<>()).add(n.getName());
      }
      pending.put(n.getName(), count);
    }
    List<String> order = new ArrayList<>(nodes.size());
    Deque<String> ready = new ArrayDeque<>();
    for (NodeDef n : nodes.values()) if (pending.get(n.getName()) == 0) ready.add(n.getName());
    while (!ready.isEmpty()) {
      String n = ready.poll();
      order.add(n);
      for (String c : out.getOrDefault(n, List.of())) {
        if (pending.merge(c, -1, Integer::sum) == 0) ready.add(c);
      }
    }
    if (order.size() < nodes.size()) {
      Set<String> done = new HashSet<>(order);
      for (String n : nodes.keySet()) if (!done.contains(n)) order.add(n);
    }
    return order;
  }

  /** A node name not yet in the graph: base, else base_1, base_2, ... */
  public String uniqueName(String base) {
    if (!nodes.containsKey(base)) return base;
    for (int i = 1; ; i++) {
      String s = base + "_" + i;
      if (!nodes.containsKey(s)) return s;
    }
  }

  // ------------------------------------------------------------------ node facts

  public static OpDef opDef(NodeDef n) {
    return OpDefs.get(n.getOp());
  }

  /** The attr on the node, else the op's default, else null. */
  public static AttrValue attr(NodeDef n, String name) {
    return OpDefs.attr(n, opDef(n), name);
  }

  /** How many outputs the node has per its OpDef, or -1 when the op is unknown. */
  public static int outputCount(NodeDef n) {
    OpDef def = opDef(n);
    if (def == null) return -1;
    int c = 0;
    for (OpDef.ArgDef a : def.getOutputArgList()) c += OpDefs.count(n, def, a);
    return c;
  }

  /** True when TensorFlow registers the op as stateful, or the op is unknown. */
  public static boolean isStateful(NodeDef n) {
    OpDef def = opDef(n);
    return def == null || def.getIsStateful();
  }

  /**
   * The constant value of a tensor produced by a Const node, looking through Identity, Snapshot
   * and StopGradient; null otherwise (or when the value cannot be read).
   */
  public HostTensor constantValue(String tensor) {
    NodeDef c = constantSource(tensor);
    if (c == null) return null;
    try {
      return TensorProtos.toHost(c.getAttrOrThrow("value").getTensor());
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The Const node a tensor comes from, looking through pass-through ops; else null. */
  public NodeDef constantSource(String tensor) {
    List<NodeDef> chain = constantChain(tensor);
    return chain == null ? null : chain.get(chain.size() - 1);
  }

  /**
   * The nodes from the tensor's producer back to its Const (pass-through ops, then the Const),
   * or null when the tensor is not a constant.
   */
  public List<NodeDef> constantChain(String tensor) {
    List<NodeDef> chain = new ArrayList<>();
    String t = tensor;
    for (int depth = 0; depth < 64; depth++) {
      NodeDef n = nodes.get(TensorNames.node(t));
      if (n == null || TensorNames.index(t) != 0) return null;
      chain.add(n);
      if (n.getOp().equals("Const")) return n.containsAttr("value") ? chain : null;
      if (!PASS_THROUGH.contains(n.getOp())) return null;
      List<String> ins = dataInputs(n);
      if (ins.isEmpty()) return null;
      t = ins.get(0);
    }
    return null;
  }

  public static DataType dtypeAttr(NodeDef n, String name) {
    AttrValue v = attr(n, name);
    return v == null ? DataType.DT_INVALID : v.getType();
  }

  // ------------------------------------------------------------------ changing

  /** Adds a node, or replaces the one of the same name. */
  public void put(NodeDef n) {
    NodeDef old = nodes.get(n.getName());
    if (old != null) unindex(old);
    nodes.put(n.getName(), normalised(n));
    index(nodes.get(n.getName()));
  }

  /** Removes a node; edges to it from other nodes are the caller's business. */
  public void remove(String name) {
    NodeDef old = nodes.remove(name);
    if (old != null) unindex(old);
  }

  /**
   * Points every data edge reading {@code from} (a tensor) at {@code to} instead. Returns how
   * many edges changed.
   */
  public int redirect(String from, String to, Set<String> except) {
    String f = TensorNames.canonical(from);
    String target = TensorNames.edge(TensorNames.node(to), TensorNames.index(to));
    int changed = 0;
    for (String c : consumerNodes(TensorNames.node(f))) {
      if (except.contains(c)) continue;
      NodeDef n = nodes.get(c);
      NodeDef.Builder b = n.toBuilder().clearInput();
      boolean any = false;
      for (String in : n.getInputList()) {
        if (!TensorNames.isControl(in) && TensorNames.canonical(in).equals(f)) {
          b.addInput(target);
          any = true;
          changed++;
        } else {
          b.addInput(in);
        }
      }
      if (any) put(b.build());
    }
    return changed;
  }

  /** Replaces data input number {@code slot} of a node. */
  public void setDataInput(String node, int slot, String tensor) {
    NodeDef n = nodes.get(node);
    NodeDef.Builder b = n.toBuilder().clearInput();
    int i = 0;
    for (String in : n.getInputList()) {
      if (!TensorNames.isControl(in) && i++ == slot) {
        b.addInput(TensorNames.edge(TensorNames.node(tensor), TensorNames.index(tensor)));
      } else {
        b.addInput(in);
      }
    }
    put(b.build());
  }

  /** Adds control inputs (node names) to a node, skipping ones it already has. */
  public void addControlInputs(String node, Collection<String> sources) {
    if (sources.isEmpty()) return;
    NodeDef n = nodes.get(node);
    NodeDef.Builder b = n.toBuilder();
    for (String s : sources) if (!s.equals(node)) b.addInput("^" + s);
    put(b.build());
  }

  /**
   * Replaces the control input "^from" of every node that has it with control inputs on
   * {@code to} (node names; none means the edge is simply dropped).
   */
  public void replaceControlEdges(String from, Collection<String> to) {
    for (String c : controlConsumers(from)) {
      NodeDef n = nodes.get(c);
      NodeDef.Builder b = n.toBuilder().clearInput();
      for (String in : n.getInputList()) if (!in.equals("^" + from)) b.addInput(in);
      for (String t : to) if (!t.equals(c)) b.addInput("^" + t);
      put(b.build());
    }
  }

  /**
   * Removes, transitively, nodes among {@code candidates} (and then their inputs) that nothing
   * consumes any more, are not protected, and are safe to drop: stateless, with at least one
   * output. Returns how many were removed.
   */
  public int removeDead(Collection<String> candidates, Set<String> keep) {
    Deque<String> work = new ArrayDeque<>(candidates);
    int removed = 0;
    while (!work.isEmpty()) {
      String name = work.poll();
      NodeDef n = nodes.get(name);
      if (n == null || keep.contains(name) || hasConsumers(name)) continue;
      if (isStateful(n) || outputCount(n) == 0 || n.getOp().startsWith("Placeholder")
          || CONTROL_FLOW.contains(n.getOp())) {
        continue;
      }
      remove(name);
      removed++;
      for (String in : n.getInputList()) work.add(TensorNames.node(in));
    }
    return removed;
  }

  /**
   * Data inputs first (in order), then control inputs without duplicates and without ones
   * already implied by a data edge from the same node.
   */
  private static NodeDef normalised(NodeDef n) {
    List<String> data = new ArrayList<>();
    Set<String> dataNodes = new HashSet<>();
    LinkedHashSet<String> control = new LinkedHashSet<>();
    boolean reordered = false;
    boolean seenControl = false;
    for (String in : n.getInputList()) {
      if (TensorNames.isControl(in)) {
        seenControl = true;
        if (!control.add(in)) reordered = true;
      } else {
        if (seenControl) reordered = true;
        data.add(in);
        dataNodes.add(TensorNames.node(in));
      }
    }
    for (String c : new ArrayList<>(control)) {
      if (dataNodes.contains(c.substring(1))) {
        control.remove(c);
        reordered = true;
      }
    }
    if (!reordered) return n;
    return n.toBuilder().clearInput().addAllInput(data).addAllInput(control).build();
  }

  private void index(NodeDef n) {
    for (String in : n.getInputList()) {
      consumers.computeIfAbsent(TensorNames.node(in), k -> new LinkedHashSet<>()).add(n.getName());
    }
  }

  private void unindex(NodeDef n) {
    for (String in : n.getInputList()) {
      Set<String> c = consumers.get(TensorNames.node(in));
      if (c != null) c.remove(n.getName());
    }
  }

  /** A Const node holding a value. */
  public static NodeDef constNode(String name, HostTensor value) {
    return NodeDef.newBuilder().setName(name).setOp("Const")
        .putAttr("dtype", AttrValue.newBuilder().setType(value.dtype()).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(TensorProtos.fromHost(value)).build())
        .build();
  }
}
