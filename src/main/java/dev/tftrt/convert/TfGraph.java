package dev.tftrt.convert;

import dev.tftrt.graph.TensorInfo;
import dev.tftrt.graph.TensorInfoTable;

import dev.tftrt.model.TensorNames;
import dev.tftrt.tensor.HostTensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * What validators and converters read about a TensorFlow graph: nodes by name, the consumers of
 * each tensor, inferred dtypes and shapes, and constant values. Read-only; built once per graph.
 */
public final class TfGraph {
  /** Ops that pass their input through unchanged, looked through when resolving constants. */
  static final java.util.Set<String> PASS_THROUGH = java.util.Set.of("Identity", "Snapshot", "StopGradient");

  private final GraphDef graphDef;
  private final Map<String, NodeDef> nodes = new LinkedHashMap<>();
  private final Map<String, List<String>> consumers = new HashMap<>();
  private final TensorInfoTable infos;
  private final Map<String, Optional<HostTensor>> constants = new ConcurrentHashMap<>();

  public TfGraph(GraphDef graph, TensorInfoTable infos) {
    this.graphDef = graph;
    this.infos = infos;
    for (NodeDef n : graph.getNodeList()) nodes.put(n.getName(), n);
    for (NodeDef n : graph.getNodeList()) {
      for (String in : n.getInputList()) {
        if (TensorNames.isControl(in)) continue;
        consumers.computeIfAbsent(TensorNames.canonical(in), k -> new ArrayList<>()).add(n.getName());
      }
    }
  }

  /** Indexes the graph and runs TensorFlow shape inference on it. */
  public static TfGraph of(GraphDef graph) {
    return new TfGraph(graph, TensorInfoTable.of(graph));
  }

  public GraphDef graphDef() {
    return graphDef;
  }

  public NodeDef node(String name) {
    return nodes.get(name);
  }

  public boolean contains(String name) {
    return nodes.containsKey(name);
  }

  public Iterable<NodeDef> nodes() {
    return Collections.unmodifiableCollection(nodes.values());
  }

  public NodeView view(String name) {
    NodeDef n = nodes.get(name);
    if (n == null) throw new IllegalArgumentException("no node " + name);
    return new NodeView(n, this);
  }

  /** Nodes that read a tensor through a data edge (a node appears once per edge). */
  public List<String> consumers(String tensor) {
    return consumers.getOrDefault(TensorNames.canonical(tensor), List.of());
  }

  public TensorInfo info(String tensor) {
    return infos.get(tensor);
  }

  public TensorInfoTable infos() {
    return infos;
  }

  /**
   * The value of a tensor when it comes from a Const node (looking through Identity), else
   * empty. Cached: each constant is decoded once.
   */
  public Optional<HostTensor> constant(String tensor) {
    String t = TensorNames.canonical(tensor);
    Optional<HostTensor> c = constants.get(t);
    if (c == null) {
      c = resolveConstant(t, 0);
      constants.put(t, c);
    }
    return c;
  }

  private Optional<HostTensor> resolveConstant(String tensor, int depth) {
    NodeDef n = nodes.get(TensorNames.node(tensor));
    if (n == null || depth > 32) return Optional.empty();
    if (n.getOp().equals("Const") && TensorNames.index(tensor) == 0 && n.containsAttr("value")) {
      try {
        return Optional.of(TfConstants.toHost(n.getAttrOrThrow("value").getTensor()));
      } catch (RuntimeException e) {
        return Optional.empty();
      }
    }
    if (PASS_THROUGH.contains(n.getOp()) && n.getInputCount() > 0
        && !TensorNames.isControl(n.getInput(0))) {
      return resolveConstant(TensorNames.canonical(n.getInput(0)), depth + 1);
    }
    return Optional.empty();
  }
}
