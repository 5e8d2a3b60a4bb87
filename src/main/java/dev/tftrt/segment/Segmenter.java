package dev.tftrt.segment;

import dev.tftrt.convert.ConverterRegistry;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.TfGraph;
import dev.tftrt.model.TensorNames;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.tensorflow.proto.NodeDef;

/**
 * Groups the nodes TensorRT can run into segments. A node is a candidate exactly when the
 * converter registry's validator accepts it and the user did not exclude it. Candidates joined
 * by a data edge are merged with union-find, visiting nodes in topological order; an edge is
 * contracted only if no other path joins its two clusters (through a non-candidate, say), since
 * that path would become a cycle through the engine. Constants are not clustered: each segment
 * takes a copy of those it reads.
 */
public final class Segmenter {
  /** How the reason of a node left in TensorFlow by the while-loop rule begins (see {@link Options}). */
  public static final String IN_LOOP_TOO_SMALL = "inside a while loop, too small for a CPU engine call";
  /** How the reason of a node left in TensorFlow by the fixed-shape rule begins (see {@link Options}). */
  public static final String ONCE_TOO_SMALL = "too small for a CPU engine call";

  /** Ops that do no work: they do not count towards the minimum segment size. */
  private static final Set<String> NO_WORK = Set.of("Identity", "IdentityN", "Snapshot",
      "StopGradient", "NoOp", "Const", "Reshape", "Squeeze", "ExpandDims");

  /**
   * {@code target}: what the engines will run on. {@link Target#CPU} (onnxruntime, tensorflow):
   * a cluster inside a while loop becomes an engine only when it pays for its call there
   * ({@link CpuCallCost}); {@link Target#GPU} (TensorRT): every cluster of the minimum size does;
   * {@link Target#BY_BACKEND}: the conversion decides from its backend (the segmenter alone
   * treats it as GPU).
   */
  public record Options(int minSegmentSize, int maxEngines, Set<String> excludeOps,
      Set<String> excludeNodes, Target target) {
    public Options {
      java.util.Objects.requireNonNull(target, "target");
    }

    public Options(int minSegmentSize, int maxEngines, Set<String> excludeOps, Set<String> excludeNodes) {
      this(minSegmentSize, maxEngines, excludeOps, excludeNodes, Target.BY_BACKEND);
    }

    public static Options defaults() {
      return new Options(3, Integer.MAX_VALUE, Set.of(), Set.of());
    }

    public Options withTarget(Target t) {
      return new Options(minSegmentSize, maxEngines, excludeOps, excludeNodes, t);
    }
  }

  /** Where the engines run, for the while-loop rule. */
  public enum Target { BY_BACKEND, CPU, GPU }

  private final Function<NodeView, Optional<String>> validator;
  private final Options options;

  public Segmenter(ConverterRegistry registry, Options options) {
    this(registry::validate, options);
  }

  /** With any validator (tests use simple rules). */
  public Segmenter(Function<NodeView, Optional<String>> validator, Options options) {
    this.validator = validator;
    this.options = options;
  }

  /**
   * Segments graph; graphInputs and graphOutputs are the nodes the caller feeds and fetches:
   * fed nodes are never candidates, fetched tensors become segment outputs.
   */
  public SegmentPlan segment(TfGraph graph, Set<String> graphInputs, Set<String> graphOutputs) {
    List<NodeDef> order = topologicalOrder(graph);
    Map<String, Integer> rank = new HashMap<>();
    for (int i = 0; i < order.size(); i++) rank.put(order.get(i).getName(), i);

    Map<String, String> rejected = new LinkedHashMap<>();
    Set<String> candidates = new LinkedHashSet<>();
    for (NodeDef n : order) {
      String why = reasonToExclude(graph, n, graphInputs);
      if (why == null) candidates.add(n.getName());
      else if (why.length() > 0) rejected.put(n.getName(), why);
    }

    Clusters c = new Clusters(order, rank);
    for (NodeDef v : order) {
      if (!candidates.contains(v.getName())) continue;
      for (String in : v.getInputList()) {
        if (TensorNames.isControl(in)) continue;
        String u = TensorNames.node(in);
        if (candidates.contains(u)) c.tryMerge(u, v.getName());
      }
    }

    // Group candidates by cluster, in topological order.
    Map<Integer, List<String>> groups = new TreeMap<>();
    for (NodeDef n : order) {
      if (candidates.contains(n.getName())) {
        groups.computeIfAbsent(c.rankOfRoot(n.getName()), k -> new ArrayList<>()).add(n.getName());
      }
    }
    List<List<String>> kept = new ArrayList<>();
    List<List<String>> dropped = new ArrayList<>();
    LoopFrames frames = options.target() == Target.CPU ? new LoopFrames(graph) : null;
    for (List<String> g : groups.values()) {
      int w = work(graph, g);
      String tooSmall = frames == null || w < options.minSegmentSize() ? null
          : g.stream().anyMatch(frames::inLoop) ? CpuCallCost.tooSmall(graph, g, w)
          : CpuCallCost.tooSmallOnce(graph, g, w);
      if (tooSmall != null) {
        for (String n : g) rejected.put(n, tooSmall); // said per node, as for unsupported ones
      } else {
        (w >= options.minSegmentSize() ? kept : dropped).add(g);
      }
    }
    if (kept.size() > options.maxEngines()) {
      List<List<String>> bySize = new ArrayList<>(kept);
      bySize.sort(Comparator.comparingInt((List<String> g) -> -work(graph, g))
          .thenComparingInt(g -> rank.get(g.get(0))));
      Set<List<String>> keep = new HashSet<>(bySize.subList(0, options.maxEngines()));
      List<List<String>> limited = new ArrayList<>();
      for (List<String> g : kept) (keep.contains(g) ? limited : dropped).add(g);
      kept = limited;
    }

    List<Segment> segments = new ArrayList<>();
    Map<String, Integer> maxRead = maxOutputIndexRead(graph);
    for (List<String> g : kept) segments.add(build(graph, segments.size(), g, graphOutputs, rank, maxRead));
    return new SegmentPlan(segments, rejected, dropped);
  }

  /**
   * Null for a candidate; "" for a node that is simply not clustered (a constant, a graph input:
   * neither is work left behind in TensorFlow); else why not.
   */
  private String reasonToExclude(TfGraph graph, NodeDef n, Set<String> graphInputs) {
    if (n.getOp().equals("Const")) return "";
    if (graphInputs.contains(n.getName())) return "";
    if (options.excludeNodes().contains(n.getName())) return "it was excluded with --exclude-nodes.";
    if (options.excludeOps().contains(n.getOp())) return "its op " + n.getOp() + " was excluded with --exclude-ops.";
    Optional<String> why = validator.apply(graph.view(n.getName()));
    return why.orElse(null);
  }

  private static int work(TfGraph graph, Collection<String> nodes) {
    int w = 0;
    for (String n : nodes) if (!NO_WORK.contains(graph.node(n).getOp())) w++;
    return w;
  }

  private static Segment build(TfGraph graph, int id, List<String> members, Set<String> graphOutputs,
      Map<String, Integer> rank, Map<String, Integer> maxRead) {
    Set<String> inside = new HashSet<>(members);
    Set<String> consts = new TreeSet<>(Comparator.comparingInt(rank::get));
    Set<String> inputs = new LinkedHashSet<>();
    Set<String> outputs = new LinkedHashSet<>();
    for (String m : members) {
      for (String in : graph.node(m).getInputList()) {
        if (TensorNames.isControl(in)) continue;
        String src = TensorNames.node(in);
        if (inside.contains(src)) continue;
        if (graph.node(src).getOp().equals("Const")) consts.add(src);
        else inputs.add(TensorNames.canonical(in));
      }
    }
    for (String m : members) {
      NodeDef n = graph.node(m);
      int outs = maxRead.getOrDefault(m, 0) + 1;
      // A fetched output that nothing in the graph reads (a second signature output) counts too.
      for (String o : graphOutputs) {
        if (TensorNames.node(o).equals(m)) outs = Math.max(outs, TensorNames.index(o) + 1);
      }
      for (int i = 0; i < outs; i++) {
        String t = m + ":" + i;
        boolean external = graphOutputs.contains(m) || graphOutputs.contains(t);
        for (String consumer : graph.consumers(t)) if (!inside.contains(consumer)) external = true;
        if (external) outputs.add(t);
      }
    }
    List<String> nodes = new ArrayList<>(consts);
    nodes.addAll(members);
    nodes.sort(Comparator.comparingInt(rank::get));
    return new Segment(id, nodes, new ArrayList<>(inputs), new ArrayList<>(outputs), work(graph, members));
  }

  /**
   * The highest output index some node reads, per node, from every data edge of the graph: a
   * Split or Unpack may have any number of outputs, and any of them may be the only one read.
   */
  private static Map<String, Integer> maxOutputIndexRead(TfGraph graph) {
    Map<String, Integer> max = new HashMap<>();
    for (NodeDef n : graph.nodes()) {
      for (String in : n.getInputList()) {
        if (TensorNames.isControl(in)) continue;
        max.merge(TensorNames.node(in), TensorNames.index(in), Math::max);
      }
    }
    return max;
  }

  /** Kahn's algorithm over data and control edges; ties keep graph order, so runs are deterministic. */
  static List<NodeDef> topologicalOrder(TfGraph graph) {
    Map<String, Integer> indeg = new LinkedHashMap<>();
    Map<String, List<String>> succ = new HashMap<>();
    for (NodeDef n : graph.nodes()) indeg.put(n.getName(), 0);
    for (NodeDef n : graph.nodes()) {
      for (String in : n.getInputList()) {
        String src = TensorNames.node(in);
        if (!indeg.containsKey(src)) continue;
        succ.computeIfAbsent(src, k -> new ArrayList<>()).add(n.getName());
        indeg.merge(n.getName(), 1, Integer::sum);
      }
    }
    Deque<String> ready = new ArrayDeque<>();
    for (Map.Entry<String, Integer> e : indeg.entrySet()) if (e.getValue() == 0) ready.add(e.getKey());
    List<NodeDef> order = new ArrayList<>();
    while (!ready.isEmpty()) {
      String n = ready.poll();
      order.add(graph.node(n));
      for (String s : succ.getOrDefault(n, List.of())) {
        if (indeg.merge(s, -1, Integer::sum) == 0) ready.add(s);
      }
    }
    if (order.size() != indeg.size()) {
      // A TF1 while loop (NextIteration back edge) is a cycle: its nodes keep graph order at the end.
      Set<String> seen = new HashSet<>();
      for (NodeDef n : order) seen.add(n.getName());
      for (NodeDef n : graph.nodes()) if (!seen.contains(n.getName())) order.add(n);
    }
    return order;
  }

  /**
   * Union-find over nodes plus the graph of clusters, for the cycle check. Edges between
   * clusters are kept as sets; merging u's cluster into v's is refused when v's cluster is
   * reachable from u's by a path other than a direct edge.
   */
  private static final class Clusters {
    private final Map<String, String> parent = new HashMap<>();
    private final Map<String, Set<String>> out = new HashMap<>();
    private final Map<String, Set<String>> in = new HashMap<>();
    private final Map<String, Integer> minRank = new HashMap<>();

    Clusters(List<NodeDef> order, Map<String, Integer> rank) {
      for (NodeDef n : order) {
        parent.put(n.getName(), n.getName());
        out.put(n.getName(), new LinkedHashSet<>());
        in.put(n.getName(), new LinkedHashSet<>());
        minRank.put(n.getName(), rank.get(n.getName()));
      }
      for (NodeDef n : order) {
        for (String i : n.getInputList()) {
          String src = TensorNames.node(i);
          if (!parent.containsKey(src) || src.equals(n.getName())) continue;
          out.get(src).add(n.getName());
          in.get(n.getName()).add(src);
        }
      }
    }

    String find(String x) {
      String r = x;
      while (!parent.get(r).equals(r)) r = parent.get(r);
      while (!parent.get(x).equals(r)) {
        String next = parent.get(x);
        parent.put(x, r);
        x = next;
      }
      return r;
    }

    int rankOfRoot(String node) {
      return minRank.get(find(node));
    }

    void tryMerge(String uNode, String vNode) {
      String u = find(uNode);
      String v = find(vNode);
      if (u.equals(v) || reachableAvoidingDirect(u, v)) return;
      // Merge v into u.
      parent.put(v, u);
      minRank.put(u, Math.min(minRank.get(u), minRank.get(v)));
      for (String s : out.remove(v)) {
        in.get(s).remove(v);
        if (!s.equals(u)) {
          out.get(u).add(s);
          in.get(s).add(u);
        }
      }
      for (String p : in.remove(v)) {
        out.get(p).remove(v);
        if (!p.equals(u)) {
          in.get(u).add(p);
          out.get(p).add(u);
        }
      }
      out.get(u).remove(u);
      in.get(u).remove(u);
    }

    /**
     * Whether v can be reached from u other than by the edge u→v. (No pruning by topological
     * rank: a merged cluster can span ranks, so a late cluster may still lead back to v.)
     */
    private boolean reachableAvoidingDirect(String u, String v) {
      Deque<String> stack = new ArrayDeque<>();
      Set<String> seen = new HashSet<>();
      for (String s : out.get(u)) if (!s.equals(v)) stack.push(s);
      while (!stack.isEmpty()) {
        String x = stack.pop();
        if (x.equals(v)) return true;
        if (!seen.add(x)) continue;
        for (String s : out.get(x)) stack.push(s);
      }
      return false;
    }
  }
}
