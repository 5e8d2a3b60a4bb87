package dev.tftrt.optimize;

import dev.tftrt.model.TensorNames;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.TensorProtos;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Removes Assert nodes whose condition folding has proven true (a constant with every element
 * true): such a check can never fail, and the control edges it held back the graph with are
 * gone with it, so what waited on it (DeepLab's padding arithmetic) can fold next. Asserts
 * whose condition is not a constant are kept.
 */
public final class ProvenAssertPass implements GraphPass {
  public static final String NAME = "remove-proven-asserts";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public GraphDef apply(GraphDef g, PassContext ctx) {
    Map<String, NodeDef> byName = new HashMap<>();
    for (NodeDef n : g.getNodeList()) byName.put(n.getName(), n);
    Set<String> proven = new HashSet<>();
    for (NodeDef n : g.getNodeList()) {
      if (!n.getOp().equals("Assert") || ctx.isProtected(n.getName()) || n.getInputCount() == 0) continue;
      NodeDef cond = byName.get(TensorNames.node(n.getInput(0)));
      if (cond != null && cond.getOp().equals("Const") && allTrue(cond)) proven.add(n.getName());
    }
    if (proven.isEmpty()) return g;
    GraphDef.Builder b = g.toBuilder().clearNode();
    for (NodeDef n : g.getNodeList()) {
      if (proven.contains(n.getName())) continue;
      NodeDef.Builder nb = n.toBuilder().clearInput();
      for (String in : n.getInputList()) {
        if (!(TensorNames.isControl(in) && proven.contains(in.substring(1)))) nb.addInput(in);
      }
      b.addNode(nb);
    }
    ctx.count(NAME, "removed", proven.size());
    return b.build();
  }

  private static boolean allTrue(NodeDef c) {
    if (!c.containsAttr("value") || c.getAttrOrThrow("value").getTensor().getDtype() != DataType.DT_BOOL) return false;
    HostTensor t = TensorProtos.toHost(c.getAttrOrThrow("value").getTensor());
    for (long i = 0; i < t.numElements(); i++) if (t.getDouble(i) == 0) return false;
    return true;
  }
}
