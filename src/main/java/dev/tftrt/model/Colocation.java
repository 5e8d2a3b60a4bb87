package dev.tftrt.model;

import com.google.protobuf.ByteString;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Colocation constraints ({@code _class: ["loc:@node"]}, written by TF1 for TensorArrays, while
 * loops and variables) kept true across graph rewrites. TensorFlow refuses to import a graph in
 * which a node asks to be colocated with a node that is not there, and a rewrite that removes or
 * renames nodes (pruning, folding, splicing in an engine) leaves exactly that behind. Placement
 * does not matter to a graph run on one device, so a constraint on a node that is gone is dropped.
 */
public final class Colocation {
  public static final String ATTR = "_class";
  private static final String PREFIX = "loc:@";

  private Colocation() {}

  /** The graph (and its function bodies) with every constraint naming a node it lacks dropped. */
  public static GraphDef keepTrue(GraphDef g) {
    if (!mentions(g)) return g;
    GraphDef.Builder b = g.toBuilder();
    Set<String> names = new HashSet<>();
    for (NodeDef n : g.getNodeList()) names.add(n.getName());
    for (int i = 0; i < b.getNodeCount(); i++) {
      NodeDef n = b.getNode(i);
      NodeDef k = restrict(n, names);
      if (k != n) b.setNode(i, k);
    }
    for (int f = 0; f < b.getLibrary().getFunctionCount(); f++) {
      FunctionDef fd = b.getLibrary().getFunction(f);
      Set<String> body = new HashSet<>();
      for (NodeDef n : fd.getNodeDefList()) body.add(n.getName());
      FunctionDef.Builder fb = null;
      for (int i = 0; i < fd.getNodeDefCount(); i++) {
        NodeDef n = fd.getNodeDef(i);
        NodeDef k = restrict(n, body);
        if (k == n) continue;
        if (fb == null) fb = fd.toBuilder();
        fb.setNodeDef(i, k);
      }
      if (fb != null) b.getLibraryBuilder().setFunction(f, fb);
    }
    return b.build();
  }

  /** The node with its constraints renamed (a function body's names inlined under a prefix). */
  public static NodeDef renamed(NodeDef n, UnaryOperator<String> rename) {
    AttrValue v = n.getAttrMap().get(ATTR);
    if (v == null) return n;
    AttrValue.ListValue.Builder l = AttrValue.ListValue.newBuilder();
    for (ByteString s : v.getList().getSList()) {
      String loc = s.toStringUtf8();
      l.addS(loc.startsWith(PREFIX)
          ? ByteString.copyFromUtf8(PREFIX + rename.apply(loc.substring(PREFIX.length()))) : s);
    }
    return n.toBuilder().putAttr(ATTR, AttrValue.newBuilder().setList(l).build()).build();
  }

  /** The node names the constraints of n name. */
  public static List<String> targets(NodeDef n) {
    AttrValue v = n.getAttrMap().get(ATTR);
    if (v == null) return List.of();
    return v.getList().getSList().stream().map(ByteString::toStringUtf8)
        .filter(s -> s.startsWith(PREFIX)).map(s -> s.substring(PREFIX.length())).toList();
  }

  private static NodeDef restrict(NodeDef n, Set<String> names) {
    AttrValue v = n.getAttrMap().get(ATTR);
    if (v == null) return n;
    AttrValue.ListValue.Builder kept = AttrValue.ListValue.newBuilder();
    for (ByteString s : v.getList().getSList()) {
      String loc = s.toStringUtf8();
      if (!loc.startsWith(PREFIX) || names.contains(loc.substring(PREFIX.length()))) kept.addS(s);
    }
    if (kept.getSCount() == v.getList().getSCount()) return n;
    NodeDef.Builder b = n.toBuilder();
    if (kept.getSCount() == 0) b.removeAttr(ATTR);
    else b.putAttr(ATTR, AttrValue.newBuilder().setList(kept).build());
    return b.build();
  }

  private static boolean mentions(GraphDef g) {
    for (NodeDef n : g.getNodeList()) if (n.containsAttr(ATTR)) return true;
    for (FunctionDef f : g.getLibrary().getFunctionList()) {
      for (NodeDef n : f.getNodeDefList()) if (n.containsAttr(ATTR)) return true;
    }
    return false;
  }
}
