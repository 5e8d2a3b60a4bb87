package dev.tftrt.optimize;

import dev.tftrt.model.TensorNames;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Removes ops that only forward their inputs or only order others: Identity, IdentityN,
 * Snapshot, StopGradient, PreventGradient and NoOp, and, when {@link
 * PassContext#removeAssertions()} is set, Assert and CheckNumerics.
 *
 * <p>Readers of a forwarded tensor read its source instead. Ordering is kept: whoever waited on
 * the removed node (through a control edge or by reading it) now waits on what it waited on (its
 * control inputs) and, for forwarding ops, on the nodes that produce its inputs. Designated
 * input and output nodes are left in place, and so are nodes next to TF1 control flow (Switch,
 * Merge, Enter, ...), where an Identity can be a branch's pivot.
 *
 * <p>Counters: one per removed op type, "removed" (all), "kept_protected", "kept_control_flow",
 * "kept_fan" (a NoOp whose removal would multiply control edges), "dead_removed" (nodes that
 * only fed a removed Assert).
 */
public final class RemoveIdentityPass implements GraphPass {
  public static final String NAME = "remove-identity";

  private static final Set<String> FORWARDING = Set.of("Identity", "Snapshot", "StopGradient",
      "PreventGradient");
  private static final Set<String> ASSERTING_FORWARD = Set.of("CheckNumerics", "CheckNumericsV2");

  /** Above this many extra edges a NoOp stays: it is the cheaper way to say "all before all". */
  private static final int MAX_EXTRA_EDGES = 16;

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public GraphDef apply(GraphDef g, PassContext ctx) {
    NodeGraph graph = NodeGraph.of(g);
    Set<String> keep = ctx.protectedNodes();
    List<String> deadCandidates = new ArrayList<>();
    for (String name : graph.topologicalOrder()) {
      NodeDef n = graph.node(name);
      if (n == null) continue;
      String op = n.getOp();
      boolean forwarding = FORWARDING.contains(op) || op.equals("IdentityN")
          || (ctx.removeAssertions() && ASSERTING_FORWARD.contains(op));
      boolean ordering = op.equals("NoOp") || (ctx.removeAssertions() && op.equals("Assert"));
      if (!forwarding && !ordering) continue;
      if (keep.contains(name)) {
        ctx.count(NAME, "kept_protected", 1);
        continue;
      }
      if (touchesControlFlow(graph, n) || hasRefType(n)) {
        ctx.count(NAME, "kept_control_flow", 1);
        continue;
      }
      if (forwarding) {
        removeForwarding(graph, n);
      } else {
        if (op.equals("NoOp") && tooManyEdges(graph, n)) {
          ctx.count(NAME, "kept_fan", 1);
          continue;
        }
        List<String> waitedOn = NodeGraph.controlInputs(n);
        graph.replaceControlEdges(name, waitedOn);
        graph.remove(name);
        for (String in : NodeGraph.dataInputs(n)) deadCandidates.add(TensorNames.node(in));
      }
      ctx.count(NAME, op, 1);
      ctx.count(NAME, "removed", 1);
    }
    int dead = graph.removeDead(deadCandidates, keep);
    if (dead > 0) ctx.count(NAME, "dead_removed", dead);
    return graph.toGraphDef();
  }

  /** Readers of output i read input i; waiting on the node means waiting on its sources. */
  private static void removeForwarding(NodeGraph graph, NodeDef n) {
    String name = n.getName();
    List<String> ins = NodeGraph.dataInputs(n);
    List<String> controls = NodeGraph.controlInputs(n);
    Set<String> readers = new LinkedHashSet<>();
    for (NodeGraph.Edge e : graph.dataConsumers(name)) readers.add(e.consumer());
    int outputs = n.getOp().equals("IdentityN") ? ins.size() : Math.min(1, ins.size());
    for (int i = 0; i < outputs; i++) graph.redirect(name + ":" + i, ins.get(i), Set.of());
    // Readers and control consumers keep waiting on what the node waited on.
    for (String r : readers) graph.addControlInputs(r, controls);
    Set<String> sources = new LinkedHashSet<>();
    for (String in : ins) sources.add(TensorNames.node(in));
    sources.addAll(controls);
    graph.replaceControlEdges(name, sources);
    graph.remove(name);
  }

  private static boolean touchesControlFlow(NodeGraph graph, NodeDef n) {
    for (String in : n.getInputList()) {
      NodeDef src = graph.node(TensorNames.node(in));
      if (src != null && NodeGraph.CONTROL_FLOW.contains(src.getOp())) return true;
    }
    for (String c : graph.consumerNodes(n.getName())) {
      if (NodeGraph.CONTROL_FLOW.contains(graph.node(c).getOp())) return true;
    }
    return false;
  }

  private static boolean hasRefType(NodeDef n) {
    for (AttrValue a : n.getAttrMap().values()) {
      if (a.getType().getNumber() > 100) return true;
      for (var t : a.getList().getTypeList()) if (t.getNumber() > 100) return true;
    }
    return false;
  }

  private static boolean tooManyEdges(NodeGraph graph, NodeDef n) {
    int in = NodeGraph.controlInputs(n).size();
    int out = new HashSet<>(graph.controlConsumers(n.getName())).size();
    return in * out > in + out + MAX_EXTRA_EDGES;
  }
}
