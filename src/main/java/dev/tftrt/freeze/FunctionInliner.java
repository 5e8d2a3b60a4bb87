package dev.tftrt.freeze;

import dev.tftrt.TftrtException;
import dev.tftrt.model.Colocation;
import dev.tftrt.model.OpDefs;
import dev.tftrt.model.TensorNames;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;

/**
 * Replaces function calls (StatefulPartitionedCall, PartitionedCall, or a node whose op is a
 * library function) reachable from the outputs by the function's body, recursively. Body nodes
 * are renamed under the call's name; the call node itself becomes an IdentityN of the
 * function's results, so "call:i" tensor names and "^call" control edges stay valid.
 */
final class FunctionInliner {
  private static final int MAX_CALLS = 100_000;

  private final Map<String, FunctionDef> library = new HashMap<>();
  private int inlined;
  private int nodesAdded;

  FunctionInliner(GraphDef g) {
    for (FunctionDef f : g.getLibrary().getFunctionList()) library.put(f.getSignature().getName(), f);
  }

  int inlinedCount() {
    return inlined;
  }

  /** Function-body nodes copied into the graph. */
  int nodesAdded() {
    return nodesAdded;
  }

  static boolean isCall(NodeDef n, Map<String, FunctionDef> library) {
    return n.getOp().equals("StatefulPartitionedCall") || n.getOp().equals("PartitionedCall")
        || library.containsKey(n.getOp());
  }

  /** The graph with every call that the given nodes depend on inlined. */
  GraphDef inline(GraphDef g, Set<String> roots) {
    Map<String, NodeDef> nodes = new java.util.LinkedHashMap<>();
    for (NodeDef n : g.getNodeList()) nodes.put(n.getName(), n);
    Deque<String> work = new ArrayDeque<>();
    for (String name : reachable(nodes, roots)) {
      if (isCall(nodes.get(name), library)) work.add(name);
    }
    while (!work.isEmpty()) {
      if (++inlined > MAX_CALLS) {
        throw new TftrtException("function calls nest more than " + MAX_CALLS + " deep: the model's functions look recursive.");
      }
      String callName = work.poll();
      for (NodeDef added : expand(nodes.get(callName), nodes)) {
        if (isCall(added, library)) work.add(added.getName());
      }
    }
    return g.toBuilder().clearNode().addAllNode(nodes.values()).build();
  }

  /** Inlines one call; returns the body nodes it added (the call is replaced in place). */
  private List<NodeDef> expand(NodeDef call, Map<String, NodeDef> nodes) {
    String fname = call.getOp().endsWith("PartitionedCall")
        ? call.getAttrMap().get("f").getFunc().getName() : call.getOp();
    FunctionDef f = library.get(fname);
    if (f == null) {
      throw new TftrtException("node '" + call.getName() + "' calls function '" + fname
          + "', which the model's function library does not hold.");
    }
    Map<String, AttrValue> callAttrs = new HashMap<>(call.getAttrMap());
    if (call.getOp().endsWith("PartitionedCall")) {
      callAttrs.putAll(call.getAttrMap().get("f").getFunc().getAttrMap());
    }
    OpDef sig = f.getSignature();
    List<String> dataIn = new ArrayList<>();
    List<String> ctrlIn = new ArrayList<>();
    for (String in : call.getInputList()) (TensorNames.isControl(in) ? ctrlIn : dataIn).add(in);
    if (dataIn.size() != sig.getInputArgCount()) {
      throw new TftrtException("node '" + call.getName() + "' passes " + dataIn.size()
          + " inputs to function '" + fname + "', which takes " + sig.getInputArgCount() + ".");
    }
    Map<String, String> args = new HashMap<>();
    for (int i = 0; i < dataIn.size(); i++) args.put(sig.getInputArg(i).getName(), dataIn.get(i));

    String prefix = call.getName() + "/";
    Map<String, String> rename = new HashMap<>();
    Map<String, NodeDef> body = new HashMap<>();
    for (NodeDef b : f.getNodeDefList()) {
      String name = prefix + b.getName();
      int k = 1;
      while (nodes.containsKey(name) || rename.containsValue(name)) name = prefix + b.getName() + "_" + k++;
      rename.put(b.getName(), name);
      body.put(b.getName(), b);
    }

    List<NodeDef> added = new ArrayList<>();
    for (NodeDef b : f.getNodeDefList()) {
      NodeDef.Builder nb = b.toBuilder().setName(rename.get(b.getName())).clearInput().clearDevice();
      for (String in : b.getInputList()) {
        nb.addInput(resolve(in, args, rename, body, fname));
      }
      for (String c : ctrlIn) nb.addInput(c);
      for (Map.Entry<String, AttrValue> a : b.getAttrMap().entrySet()) {
        nb.putAttr(a.getKey(), substitute(a.getValue(), callAttrs, call.getName(), fname));
      }
      // Colocation inside the body follows the renaming; one naming anything else is dropped later.
      NodeDef n = Colocation.renamed(dedupeInputs(nb), x -> rename.getOrDefault(x, ""));
      nodes.put(n.getName(), n);
      added.add(n);
      nodesAdded++;
    }

    // The call becomes IdentityN over the function's results (NoOp when it has none).
    NodeDef.Builder out = NodeDef.newBuilder().setName(call.getName());
    Set<String> ctrl = new LinkedHashSet<>();
    for (String body0 : f.getControlRetMap().values()) ctrl.add("^" + rename.get(body0));
    if (sig.getOutputArgCount() == 0) {
      out.setOp("NoOp");
      ctrl.addAll(ctrlIn);
    } else {
      out.setOp("IdentityN");
      AttrValue.ListValue.Builder types = AttrValue.ListValue.newBuilder();
      for (OpDef.ArgDef o : sig.getOutputArgList()) {
        String ret = f.getRetMap().get(o.getName());
        if (ret == null) {
          throw new TftrtException("function '" + fname + "' has no result for its output '" + o.getName() + "'.");
        }
        out.addInput(resolve(ret, args, rename, body, fname));
        types.addType(o.getType() != org.tensorflow.proto.DataType.DT_INVALID ? o.getType()
            : callAttrs.get(o.getTypeAttr()).getType());
      }
      out.putAttr("T", AttrValue.newBuilder().setList(types).build());
    }
    out.addAllInput(ctrl);
    nodes.put(call.getName(), out.build());
    return added;
  }

  /** Maps an input reference of a function body to an edge of the outer graph. */
  private String resolve(String in, Map<String, String> args, Map<String, String> rename,
      Map<String, NodeDef> body, String fname) {
    if (TensorNames.isControl(in)) {
      String src = in.substring(1);
      if (rename.containsKey(src)) return "^" + rename.get(src);
      if (args.containsKey(src)) return "^" + TensorNames.node(args.get(src));
      throw new TftrtException("function '" + fname + "' has a control edge from unknown node '" + src + "'.");
    }
    String[] parts = in.split(":");
    if (parts.length == 1) {
      if (args.containsKey(in)) return args.get(in);
      if (rename.containsKey(in)) return rename.get(in);
    } else if (parts.length == 2 && rename.containsKey(parts[0])) {
      return TensorNames.edge(rename.get(parts[0]), Integer.parseInt(parts[1]));
    } else if (parts.length == 3 && rename.containsKey(parts[0])) {
      NodeDef src = body.get(parts[0]);
      int idx = Integer.parseInt(parts[2]);
      int flat;
      FunctionDef callee = library.get(src.getOp());
      if (callee != null) {
        flat = -1;
        List<OpDef.ArgDef> outs = callee.getSignature().getOutputArgList();
        for (int i = 0; i < outs.size(); i++) if (outs.get(i).getName().equals(parts[1])) flat = i + idx;
      } else {
        OpDef def = OpDefs.get(src.getOp());
        if (def == null) {
          throw new TftrtException("function '" + fname + "' uses op '" + src.getOp()
              + "', which this TensorFlow does not know.");
        }
        flat = OpDefs.flatOutputIndex(src, def, parts[1], idx);
      }
      if (flat < 0) {
        throw new TftrtException("function '" + fname + "' reads output '" + parts[1] + "' of node '"
            + parts[0] + "', which its op does not have.");
      }
      return TensorNames.edge(rename.get(parts[0]), flat);
    }
    throw new TftrtException("function '" + fname + "' reads '" + in + "', which is neither an argument nor a node of it.");
  }

  private static AttrValue substitute(AttrValue v, Map<String, AttrValue> callAttrs, String call, String fname) {
    if (v.getValueCase() != AttrValue.ValueCase.PLACEHOLDER) return v;
    AttrValue r = callAttrs.get(v.getPlaceholder());
    if (r == null) {
      throw new TftrtException("node '" + call + "' calls function '" + fname + "' without a value for its attribute '"
          + v.getPlaceholder() + "'.");
    }
    return r;
  }

  private static NodeDef dedupeInputs(NodeDef.Builder nb) {
    List<String> ins = new ArrayList<>(nb.getInputList());
    List<String> out = new ArrayList<>();
    Set<String> seenCtrl = new HashSet<>();
    for (String in : ins) {
      if (TensorNames.isControl(in) && !seenCtrl.add(in)) continue;
      out.add(in);
    }
    // Data inputs must come before control inputs in a NodeDef.
    List<String> ordered = new ArrayList<>();
    for (String in : out) if (!TensorNames.isControl(in)) ordered.add(in);
    for (String in : out) if (TensorNames.isControl(in)) ordered.add(in);
    return nb.clearInput().addAllInput(ordered).build();
  }

  /** Names of the nodes the roots depend on, through data and control edges. */
  static Set<String> reachable(Map<String, NodeDef> nodes, Set<String> roots) {
    Set<String> seen = new LinkedHashSet<>();
    Deque<String> stack = new ArrayDeque<>(roots);
    while (!stack.isEmpty()) {
      String n = stack.pop();
      NodeDef d = nodes.get(n);
      if (d == null || !seen.add(n)) continue;
      for (String in : d.getInputList()) stack.push(TensorNames.node(in));
    }
    return seen;
  }
}
