package dev.tftrt.model;

import java.util.HashMap;
import java.util.Map;
import org.tensorflow.TensorFlow;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;

/**
 * TensorFlow's registered op definitions: to count how many tensors each argument of a node has,
 * and to complete nodes whose default-valued attributes were stripped when the model was saved.
 */
public final class OpDefs {
  private static volatile Map<String, OpDef> registry;

  private OpDefs() {}

  public static OpDef get(String op) {
    Map<String, OpDef> r = registry;
    if (r == null) {
      synchronized (OpDefs.class) {
        if (registry == null) {
          Map<String, OpDef> m = new HashMap<>();
          for (OpDef d : TensorFlow.registeredOpList().getOpList()) m.put(d.getName(), d);
          registry = m;
        }
        r = registry;
      }
    }
    return r.get(op);
  }

  /**
   * The node with every attribute its OpDef gives a default for and the node lacks (SavedModels
   * are usually written with defaults stripped: MaxPool without T, Shape without out_type), so
   * every stage sees what TensorFlow would run. Unknown ops (library functions) are left as they are.
   */
  public static NodeDef withDefaults(NodeDef n) {
    OpDef def = get(n.getOp());
    if (def == null) return n;
    NodeDef.Builder b = null;
    for (OpDef.AttrDef a : def.getAttrList()) {
      if (a.hasDefaultValue() && !n.containsAttr(a.getName())) {
        if (b == null) b = n.toBuilder();
        b.putAttr(a.getName(), a.getDefaultValue());
      }
    }
    return b == null ? n : b.build();
  }

  /** The attr value on the node, else the op's default, else null. */
  public static AttrValue attr(NodeDef n, OpDef def, String name) {
    AttrValue v = n.getAttrMap().get(name);
    if (v != null) return v;
    if (def != null) {
      for (OpDef.AttrDef a : def.getAttrList()) {
        if (a.getName().equals(name) && a.hasDefaultValue()) return a.getDefaultValue();
      }
    }
    return null;
  }

  /** How many tensors an argument stands for on this node (N of a list, else 1). */
  public static int count(NodeDef n, OpDef def, OpDef.ArgDef arg) {
    if (!arg.getNumberAttr().isEmpty()) {
      AttrValue v = attr(n, def, arg.getNumberAttr());
      return v == null ? 1 : (int) v.getI();
    }
    if (!arg.getTypeListAttr().isEmpty()) {
      AttrValue v = attr(n, def, arg.getTypeListAttr());
      return v == null ? 0 : v.getList().getTypeCount();
    }
    return 1;
  }

  /** The flat output index of output argument argName, element idx; -1 if there is no such arg. */
  public static int flatOutputIndex(NodeDef n, OpDef def, String argName, int idx) {
    int base = 0;
    for (OpDef.ArgDef a : def.getOutputArgList()) {
      if (a.getName().equals(argName)) return base + idx;
      base += count(n, def, a);
    }
    return -1;
  }

  /** The input argument that flat data input i of the node belongs to, or null. */
  public static OpDef.ArgDef inputArgAt(NodeDef n, OpDef def, int i) {
    int base = 0;
    for (OpDef.ArgDef a : def.getInputArgList()) {
      int c = count(n, def, a);
      if (i < base + c) return a;
      base += c;
    }
    return null;
  }
}
