package dev.tftrt.precision;

import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Removes casts that change nothing: a Cast to the type its input already has, an FP16 → FP32 →
 * FP16 round trip (exact), and an integer → FP32 → FP16 chain, which becomes one Cast. A cast
 * that rounds (FP32 → FP16) is never removed: it is the precision the user asked for.
 */
final class CastCleanup {
  private CastCleanup() {}

  static int countBefore(GraphProto g) {
    return (int) g.getNodeList().stream().filter(n -> n.getOpType().equals("Cast")).count();
  }

  static GraphProto apply(GraphProto g) {
    for (boolean changed = true; changed; ) {
      GraphProto next = once(g);
      changed = next != g;
      g = next;
    }
    return g;
  }

  private static int to(NodeProto n) {
    return (int) ElementTypes.attr(n, "to").getI();
  }

  private static boolean isFloatType(int t) {
    return t == ElementTypes.FLOAT || t == ElementTypes.FLOAT16 || t == 11 || t == 16;
  }

  private static GraphProto once(GraphProto g) {
    Map<String, Integer> types = ElementTypes.infer(g);
    Set<String> outputs = new HashSet<>();
    for (ValueInfoProto v : g.getOutputList()) outputs.add(v.getName());
    Map<String, List<NodeProto>> consumers = new HashMap<>();
    Map<String, NodeProto> producer = new HashMap<>();
    for (NodeProto n : g.getNodeList()) {
      for (String in : n.getInputList()) consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
      for (String o : n.getOutputList()) producer.put(o, n);
    }
    for (NodeProto b : g.getNodeList()) {
      if (!b.getOpType().equals("Cast") || outputs.contains(b.getOutput(0))) continue;
      String x = b.getInput(0);
      if (types.getOrDefault(x, 0) == to(b)) return without(g, Set.of(b), b.getOutput(0), x, null);
      NodeProto a = producer.get(x);
      if (a == null || !a.getOpType().equals("Cast") || outputs.contains(x) || consumers.get(x).size() != 1) continue;
      int t0 = types.getOrDefault(a.getInput(0), 0);
      int t1 = to(a);
      int t2 = to(b);
      if (t0 == ElementTypes.FLOAT16 && t1 == ElementTypes.FLOAT && t2 == ElementTypes.FLOAT16) {
        return without(g, Set.of(a, b), b.getOutput(0), a.getInput(0), null);
      }
      if (t0 != 0 && !isFloatType(t0) && t1 == ElementTypes.FLOAT && t2 == ElementTypes.FLOAT16) {
        NodeProto merged = b.toBuilder().setInput(0, a.getInput(0)).build();
        return without(g, Set.of(a), null, null, Map.entry(b, merged));
      }
    }
    return g;
  }

  /** g without the given nodes, readers of {@code from} reading {@code to}, one node replaced. */
  private static GraphProto without(GraphProto g, Set<NodeProto> drop, String from, String to,
      Map.Entry<NodeProto, NodeProto> replace) {
    GraphProto.Builder b = g.toBuilder().clearNode();
    for (NodeProto n : g.getNodeList()) {
      if (drop.contains(n)) continue;
      if (replace != null && n.equals(replace.getKey())) n = replace.getValue();
      if (from != null) {
        NodeProto.Builder nb = n.toBuilder();
        for (int i = 0; i < nb.getInputCount(); i++) if (nb.getInput(i).equals(from)) nb.setInput(i, to);
        n = nb.build();
      }
      b.addNode(n);
    }
    return b.build();
  }
}
