package dev.tftrt.model;

import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * What every graph read from a user's model goes through once, so that no later stage has to
 * care how the model was exported: device pins cleared (a model exported on a GPU machine pins
 * nodes to /device:GPU:0, which this machine may lack; TensorFlow's own freezing tool clears
 * them too), each node completed with its OpDef's default attributes, and colocation
 * constraints on nodes that are not there dropped. Function bodies get the same.
 */
public final class Normalizer {
  private Normalizer() {}

  public static GraphDef normalize(GraphDef g) {
    GraphDef.Builder b = g.toBuilder();
    for (int i = 0; i < b.getNodeCount(); i++) {
      NodeDef n = b.getNode(i);
      NodeDef k = node(n);
      if (k != n) b.setNode(i, k);
    }
    for (int f = 0; f < b.getLibrary().getFunctionCount(); f++) {
      FunctionDef fd = b.getLibrary().getFunction(f);
      FunctionDef.Builder fb = null;
      for (int i = 0; i < fd.getNodeDefCount(); i++) {
        NodeDef n = fd.getNodeDef(i);
        NodeDef k = node(n);
        if (k == n) continue;
        if (fb == null) fb = fd.toBuilder();
        fb.setNodeDef(i, k);
      }
      if (fb != null) b.getLibraryBuilder().setFunction(f, fb);
    }
    return Colocation.keepTrue(b.build());
  }

  private static NodeDef node(NodeDef n) {
    NodeDef k = n.getDevice().isEmpty() ? n : n.toBuilder().clearDevice().build();
    return OpDefs.withDefaults(k);
  }

  /** Whether any node or function body node is pinned to a device. */
  public static boolean hasDevices(GraphDef g) {
    for (NodeDef n : g.getNodeList()) if (!n.getDevice().isEmpty()) return true;
    for (FunctionDef f : g.getLibrary().getFunctionList()) {
      for (NodeDef n : f.getNodeDefList()) if (!n.getDevice().isEmpty()) return true;
    }
    return false;
  }
}
