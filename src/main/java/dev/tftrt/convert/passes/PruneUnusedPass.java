package dev.tftrt.convert.passes;

import dev.tftrt.convert.passes.OnnxPass;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Removes nodes none of whose outputs is used, and initializers nothing reads. */
public final class PruneUnusedPass implements OnnxPass {
  @Override
  public String name() {
    return "prune-unused";
  }

  @Override
  public GraphProto apply(GraphProto graph) {
    Set<String> live = new HashSet<>();
    for (ValueInfoProto o : graph.getOutputList()) live.add(o.getName());
    List<NodeProto> kept = new ArrayList<>();
    List<NodeProto> nodes = graph.getNodeList();
    for (int i = nodes.size() - 1; i >= 0; i--) { // nodes are in topological order
      NodeProto n = nodes.get(i);
      boolean used = false;
      for (String o : n.getOutputList()) if (live.contains(o)) used = true;
      if (!used) continue;
      kept.add(n);
      live.addAll(n.getInputList());
    }
    java.util.Collections.reverse(kept); // collected backwards; adding at the front would be O(n^2)
    List<TensorProto> inits = new ArrayList<>();
    for (TensorProto t : graph.getInitializerList()) if (live.contains(t.getName())) inits.add(t);
    if (kept.size() == nodes.size() && inits.size() == graph.getInitializerCount()) return graph;
    return graph.toBuilder().clearNode().addAllNode(kept).clearInitializer().addAllInitializer(inits).build();
  }
}
