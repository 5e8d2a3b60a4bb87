package dev.tftrt.convert.passes;

import dev.tftrt.convert.passes.OnnxPass;
import dev.tftrt.convert.onnx.AttributeProto;
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
 * Cancels a Transpose that directly undoes another one (NCHW -> NHWC -> NCHW between two
 * converted convolutions): readers of the second read the first one's input instead. The first
 * Transpose is left for {@link PruneUnusedPass} when nothing else reads it. Graph outputs are
 * never renamed.
 *
 * <p>Pushing transposes through layout-agnostic ops (element-wise, activations) so that more
 * pairs meet is a separate, later pass.
 */
public final class TransposeCancelPass implements OnnxPass {
  @Override
  public String name() {
    return "transpose-cancel";
  }

  @Override
  public GraphProto apply(GraphProto graph) {
    Map<String, NodeProto> producer = new HashMap<>();
    for (NodeProto n : graph.getNodeList()) for (String o : n.getOutputList()) producer.put(o, n);
    Set<String> outputs = new HashSet<>();
    for (ValueInfoProto o : graph.getOutputList()) outputs.add(o.getName());

    Map<String, String> rename = new HashMap<>();
    for (NodeProto n : graph.getNodeList()) {
      if (!isTranspose(n) || outputs.contains(n.getOutput(0))) continue;
      NodeProto first = producer.get(n.getInput(0));
      if (first == null || !isTranspose(first)) continue;
      long[] p1 = perm(first);
      long[] p2 = perm(n);
      if (p1 == null || p2 == null || p1.length != p2.length) continue;
      boolean identity = true;
      for (int i = 0; i < p2.length; i++) if (p1[(int) p2[i]] != i) identity = false;
      if (!identity) continue;
      String source = first.getInput(0);
      rename.put(n.getOutput(0), rename.getOrDefault(source, source));
    }
    if (rename.isEmpty()) return graph;
    List<NodeProto> nodes = new ArrayList<>();
    for (NodeProto n : graph.getNodeList()) {
      NodeProto.Builder b = n.toBuilder();
      for (int i = 0; i < b.getInputCount(); i++) {
        String r = rename.get(b.getInput(i));
        if (r != null) b.setInput(i, r);
      }
      nodes.add(b.build());
    }
    return new PruneUnusedPass().apply(graph.toBuilder().clearNode().addAllNode(nodes).build());
  }

  private static boolean isTranspose(NodeProto n) {
    return n.getOpType().equals("Transpose") && n.getDomain().isEmpty() && n.getInputCount() == 1;
  }

  private static long[] perm(NodeProto n) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals("perm")) return a.getIntsList().stream().mapToLong(Long::longValue).toArray();
    }
    return null;
  }
}
