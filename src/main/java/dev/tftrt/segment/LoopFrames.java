package dev.tftrt.segment;

import dev.tftrt.convert.TfGraph;
import dev.tftrt.model.TensorNames;
import java.util.HashMap;
import java.util.Map;
import org.tensorflow.proto.NodeDef;

/**
 * Which nodes run inside a TF1 while loop: the frame each node executes in, as TensorFlow's
 * executor assigns it. An {@code Enter} opens its {@code frame_name} frame below its input's,
 * an {@code Exit} returns to the parent frame, and every other node runs in the frame of its
 * inputs (data or control). Found by propagating to a fixed point, since a loop's
 * {@code NextIteration → Merge} back edge is a cycle. Nodes with no inputs (constants) are in
 * the root frame.
 */
final class LoopFrames {
  private static final String ROOT = "";
  /** Between nested frame names, which themselves contain '/'. */
  private static final char SEP = '\0';
  private final Map<String, String> frame = new HashMap<>();

  LoopFrames(TfGraph graph) {
    boolean changed = true;
    for (int pass = 0; changed && pass < 1000; pass++) {
      changed = false;
      for (NodeDef n : graph.nodes()) {
        String f = frameOf(n);
        if (f != null && !f.equals(frame.get(n.getName()))) {
          frame.put(n.getName(), f);
          changed = true;
        }
      }
    }
  }

  private String frameOf(NodeDef n) {
    if (n.getInputCount() == 0) return ROOT;
    String parent = null;
    for (String in : n.getInputList()) {
      String f = frame.get(TensorNames.node(in));
      if (f != null && (parent == null || f.length() > parent.length())) parent = f; // the innermost
    }
    if (parent == null) return null;
    if (n.getOp().equals("Enter") || n.getOp().equals("RefEnter")) {
      String name = n.containsAttr("frame_name") ? n.getAttrOrThrow("frame_name").getS().toStringUtf8() : n.getName();
      return parent + SEP + name;
    }
    if (n.getOp().equals("Exit") || n.getOp().equals("RefExit")) {
      int cut = parent.lastIndexOf(SEP);
      return cut < 0 ? ROOT : parent.substring(0, cut);
    }
    return parent;
  }

  /** Whether the node runs once per iteration of some while loop. */
  boolean inLoop(String node) {
    String f = frame.get(node);
    return f != null && !f.isEmpty();
  }
}
