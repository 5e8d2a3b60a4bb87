package dev.tftrt.optimize;

import dev.tftrt.model.TensorNames;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Folds inference batch normalisation into constants. A FusedBatchNorm, FusedBatchNormV2 or
 * FusedBatchNormV3 with is_training=false whose scale, offset, mean and variance are constants
 * computes y = x·s + t per channel, with s = scale / sqrt(variance + epsilon) and t = offset −
 * mean·s (in double precision, stored in the op's dtype).
 *
 * <ul>
 *   <li>When x comes from a Conv2D (NHWC or NCHW), DepthwiseConv2dNative or MatMul whose filter
 *       is a Const read only there, possibly through one bias op (BiasAdd, or Add/AddV2 of a
 *       per-channel constant) and BatchToSpaceND (dilated convolutions), each read only by the
 *       next, s is multiplied into a new filter and the batch norm becomes a BiasAdd of
 *       (old bias)·s + t.
 *   <li>Otherwise it becomes x · scale + shift (Mul and AddV2 with per-channel constants shaped
 *       for its data_format).
 *   <li>The unfolded form, Mul(x, scale[c]) optionally followed by Add(·, shift[c]) once
 *       constant folding has computed scale and shift, is folded into the weights the same way
 *       when x comes from such a linear op (channels last); otherwise it is left as it is.
 * </ul>
 * The node that replaces the batch norm takes its name, so its readers and designated outputs
 * are unchanged. A batch norm whose outputs 1..5 (batch statistics, reserve space) are read, or
 * that is itself designated, is left alone.
 *
 * <p>Counters: "folded_into_weights", "to_mul_add", "unfolded_into_weights", "kept_training",
 * "kept_stats_read", "kept_not_constant", "kept_protected", "kept_dtype".
 */
public final class BatchNormFoldingPass implements GraphPass {
  public static final String NAME = "fold-batchnorm";

  private static final Set<String> BATCH_NORMS = Set.of("FusedBatchNorm", "FusedBatchNormV2",
      "FusedBatchNormV3");
  private static final Set<String> LINEAR = Set.of("Conv2D", "DepthwiseConv2dNative", "MatMul");
  private static final Set<DataType> FLOATS = Set.of(DataType.DT_FLOAT, DataType.DT_DOUBLE,
      DataType.DT_HALF, DataType.DT_BFLOAT16);

  @Override
  public String name() {
    return NAME;
  }

  /** A batch norm's per-channel affine form, y = x·scale + shift, along channel axis of rank. */
  private record Affine(double[] scale, double[] shift, boolean channelsFirst, int rank, DataType dtype) {}

  @Override
  public GraphDef apply(GraphDef g, PassContext ctx) {
    NodeGraph graph = NodeGraph.of(g);
    Set<String> keep = ctx.protectedNodes();
    for (String name : graph.topologicalOrder()) {
      NodeDef bn = graph.node(name);
      if (bn == null || !BATCH_NORMS.contains(bn.getOp())) continue;
      String reason = null;
      Affine a = null;
      if (keep.contains(name)) reason = "kept_protected";
      else if (attrBool(bn, "is_training", true)) reason = "kept_training";
      else if (statsRead(graph, name)) reason = "kept_stats_read";
      else if (!FLOATS.contains(NodeGraph.dtypeAttr(bn, "T"))) reason = "kept_dtype";
      else if ((a = affine(graph, bn)) == null) reason = "kept_not_constant";
      if (reason != null) {
        ctx.count(NAME, reason, 1);
        continue;
      }
      List<String> oldInputs = new ArrayList<>();
      for (String in : bn.getInputList()) oldInputs.add(TensorNames.node(in));
      if (foldIntoWeights(graph, bn, a, keep)) {
        ctx.count(NAME, "folded_into_weights", 1);
      } else {
        toMulAdd(graph, bn, a);
        ctx.count(NAME, "to_mul_add", 1);
      }
      graph.removeDead(oldInputs, keep);
    }
    foldUnfoldedBatchNorms(graph, keep, ctx);
    return graph.toGraphDef();
  }

  /**
   * The "unfolded" form a batch norm takes in many graphs once its constant part is folded:
   * Mul(x, scale[c]) and optionally Add(·, shift[c]) (channels last), where x comes from a
   * linear op with an exclusive constant filter (possibly through a bias op). Folded into the
   * weights like a FusedBatchNorm; the last node becomes the BiasAdd and keeps its name.
   */
  private static void foldUnfoldedBatchNorms(NodeGraph graph, Set<String> keep, PassContext ctx) {
    for (String name : graph.topologicalOrder()) {
      NodeDef mul = graph.node(name);
      if (mul == null || !mul.getOp().equals("Mul") || keep.contains(name)) continue;
      DataType t = NodeGraph.dtypeAttr(mul, "T");
      if (!FLOATS.contains(t)) continue;
      List<String> ins = NodeGraph.dataInputs(mul);
      if (ins.size() != 2) continue;
      int k = graph.constantValue(ins.get(1)) != null ? 1 : 0;
      HostTensor scale = graph.constantValue(ins.get(k));
      if (scale == null || scale.rank() != 1 || graph.constantValue(ins.get(1 - k)) != null) continue;
      String x = ins.get(1 - k);
      int c = (int) scale.numElements();
      if (scale.dtype() == DataType.DT_STRING) continue;
      double[] sv = new double[c];
      for (int i = 0; i < c; i++) sv[i] = scale.getDouble(i);
      double[] shift = new double[c];
      NodeDef last = mul;
      Set<String> readers = graph.consumerNodes(name);
      if (readers.size() == 1 && graph.dataConsumers(name).size() == 1) {
        NodeDef add = graph.node(readers.iterator().next());
        if ((add.getOp().equals("Add") || add.getOp().equals("AddV2")) && !keep.contains(add.getName())) {
          List<String> ai = NodeGraph.dataInputs(add);
          int m = TensorNames.node(ai.get(0)).equals(name) ? 0 : 1;
          HostTensor sh = graph.constantValue(ai.get(1 - m));
          if (TensorNames.index(ai.get(m)) == 0 && isChannelVector(sh, c)) {
            for (int i = 0; i < c; i++) shift[i] = sh.getDouble(i);
            last = add;
          }
        }
      }
      if (last == mul && graph.controlConsumers(name).size() > 0) continue;
      Affine a = new Affine(sv, shift, false, 2, t);
      List<String> oldInputs = new ArrayList<>();
      for (String in : last.getInputList()) oldInputs.add(TensorNames.node(in));
      oldInputs.add(TensorNames.node(ins.get(k)));
      if (foldIntoWeights(graph, last, name, x, a, keep)) {
        ctx.count(NAME, "unfolded_into_weights", 1);
        graph.removeDead(oldInputs, keep);
      }
    }
  }

  // ------------------------------------------------------------------ reading the batch norm

  private static boolean statsRead(NodeGraph graph, String bn) {
    for (int i : graph.consumedOutputs(bn)) if (i != 0) return true;
    return false;
  }

  private static Affine affine(NodeGraph graph, NodeDef bn) {
    List<String> ins = NodeGraph.dataInputs(bn);
    if (ins.size() < 5) return null;
    HostTensor[] v = new HostTensor[4];
    for (int i = 0; i < 4; i++) {
      v[i] = graph.constantValue(ins.get(i + 1));
      if (v[i] == null || v[i].dtype() == DataType.DT_STRING || v[i].rank() != 1) return null;
    }
    int c = (int) v[0].numElements();
    for (HostTensor t : v) if (t.numElements() != c) return null;
    double eps = NodeGraph.attr(bn, "epsilon") == null ? 1e-4 : NodeGraph.attr(bn, "epsilon").getF();
    double[] scale = new double[c];
    double[] shift = new double[c];
    for (int i = 0; i < c; i++) {
      double s = v[0].getDouble(i) / Math.sqrt(v[3].getDouble(i) + eps);
      scale[i] = s;
      shift[i] = v[1].getDouble(i) - v[2].getDouble(i) * s;
    }
    String format = attrString(bn, "data_format", "NHWC");
    return new Affine(scale, shift, format.startsWith("NC"), format.length(), NodeGraph.dtypeAttr(bn, "T"));
  }

  // ------------------------------------------------------------------ folding into weights

  /**
   * Walks back from the batch norm through at most one BiasAdd and any BatchToSpaceND, each read
   * only by the next, to a linear op with an exclusive constant filter; folds if the channels
   * line up. Returns false (graph unchanged) otherwise.
   */
  private static boolean foldIntoWeights(NodeGraph graph, NodeDef bn, Affine a, Set<String> keep) {
    return foldIntoWeights(graph, bn, bn.getName(), NodeGraph.dataInputs(bn).get(0), a, keep);
  }

  /**
   * @param bn the node replaced by the new BiasAdd (it takes its name)
   * @param startReader the node reading {@code x}: bn, or the Mul of an unfolded batch norm
   * @param x the tensor the affine map is applied to
   */
  private static boolean foldIntoWeights(NodeGraph graph, NodeDef bn, String startReader, String x,
      Affine a, Set<String> keep) {
    int c = a.scale().length;
    String path = x;
    NodeDef biasAdd = null;
    String biasTensor = null; // the old bias constant
    String biasInput = null; // what the old bias was added to
    String biasReader = null; // the node that read the old bias op (through its data input 0)
    String reader = startReader;
    NodeDef cur = graph.node(TensorNames.node(path));
    for (int steps = 0; steps < 8 && cur != null; steps++) {
      if (TensorNames.index(path) != 0) return false;
      if (!onlyReader(graph, cur.getName(), reader) || keep.contains(cur.getName())) return false;
      String[] bias = biasAdd == null ? biasOperands(graph, cur, a, c) : null;
      if (bias != null) {
        biasAdd = cur;
        biasInput = bias[0];
        biasTensor = bias[1];
        biasReader = reader;
        path = biasInput;
      } else if (cur.getOp().equals("BatchToSpaceND") && !a.channelsFirst()) {
        path = NodeGraph.dataInputs(cur).get(0);
      } else {
        break;
      }
      reader = cur.getName();
      cur = graph.node(TensorNames.node(path));
    }
    if (cur == null || !LINEAR.contains(cur.getOp())) return false;
    NodeDef linear = cur;
    if (NodeGraph.dtypeAttr(linear, "T") != a.dtype()) return false;
    List<String> lin = NodeGraph.dataInputs(linear);
    List<NodeDef> chain = graph.constantChain(lin.get(1));
    if (chain == null) return false;
    String expectedReader = linear.getName();
    for (NodeDef n : chain) {
      if (!onlyReader(graph, n.getName(), expectedReader) || keep.contains(n.getName())) return false;
      expectedReader = n.getName();
    }
    HostTensor w = graph.constantValue(lin.get(1));
    if (w == null || w.dtype() != a.dtype()) return false;
    long[] ws = w.shape();
    boolean transposed = false;
    switch (linear.getOp()) {
      case "Conv2D":
        if (ws.length != 4 || ws[3] != c) return false;
        if (attrString(linear, "data_format", "NHWC").startsWith("NC") != a.channelsFirst()) return false;
        break;
      case "DepthwiseConv2dNative":
        if (ws.length != 4 || ws[2] * ws[3] != c) return false;
        if (attrString(linear, "data_format", "NHWC").startsWith("NC") != a.channelsFirst()) return false;
        break;
      default: // MatMul: [batch, n] output, channels last
        if (a.channelsFirst() || ws.length != 2) return false;
        transposed = attrBool(linear, "transpose_b", false);
        if ((transposed ? ws[0] : ws[1]) != c) return false;
    }

    // Scaled filter: output channel of flat element i is i % c (or i / k when transposed).
    long n = w.numElements();
    long k = transposed ? ws[1] : 1;
    ByteBuffer nb = ByteBuffer.allocate((int) (n * DTypes.byteSize(w.dtype()))).order(ByteOrder.LITTLE_ENDIAN);
    for (long i = 0; i < n; i++) {
      int ch = (int) (transposed ? i / k : i % c);
      HostTensor.putDouble(nb, i, w.dtype(), w.getDouble(i) * a.scale()[ch]);
    }
    String filterName = graph.uniqueName(linear.getName() + "/folded_filter");
    graph.put(NodeGraph.constNode(filterName, HostTensor.of(w.dtype(), ws, nb)));
    graph.setDataInput(linear.getName(), 1, filterName);
    graph.removeDead(List.of(chain.get(0).getName()), keep);

    double[] bias = a.shift().clone();
    List<String> waits = new ArrayList<>(NodeGraph.controlInputs(bn));
    if (biasAdd != null) {
      HostTensor b = graph.constantValue(biasTensor);
      for (int i = 0; i < c; i++) bias[i] += b.getDouble(i) * a.scale()[i];
      waits.addAll(NodeGraph.controlInputs(biasAdd));
      // Skip the old bias op: its reader reads what the bias was added to.
      if (!biasReader.equals(startReader)) graph.setDataInput(biasReader, 0, biasInput);
    }
    String biasName = graph.uniqueName(bn.getName() + "/folded_bias");
    graph.put(NodeGraph.constNode(biasName, vector(bias, a.dtype(), new long[] {c})));
    String in = biasAdd != null && biasReader.equals(startReader) ? biasInput : x;
    NodeDef.Builder add = NodeDef.newBuilder().setName(bn.getName()).setOp("BiasAdd")
        .addInput(in).addInput(biasName)
        .putAttr("T", AttrValue.newBuilder().setType(a.dtype()).build())
        .putAttr("data_format", AttrValue.newBuilder()
            .setS(com.google.protobuf.ByteString.copyFromUtf8(a.channelsFirst() ? "NCHW" : "NHWC")).build());
    for (String wname : waits) add.addInput("^" + wname);
    if (!startReader.equals(bn.getName())) {
      for (String wname : NodeGraph.controlInputs(graph.node(startReader))) add.addInput("^" + wname);
    }
    graph.put(add.build());
    List<String> dead = new ArrayList<>(List.of(startReader));
    if (biasAdd != null) dead.add(biasAdd.getName());
    graph.removeDead(dead, keep);
    return true;
  }

  /**
   * For a BiasAdd (data_format matching the batch norm) or an Add/AddV2 of a rank-1 constant of
   * c channels (channels last): {what the bias is added to, the bias constant}; else null.
   */
  private static String[] biasOperands(NodeGraph graph, NodeDef n, Affine a, int c) {
    List<String> ins = NodeGraph.dataInputs(n);
    if (ins.size() != 2) return null;
    if (n.getOp().equals("BiasAdd")) {
      if (attrString(n, "data_format", "NHWC").startsWith("NC") != a.channelsFirst()) return null;
      return isChannelVector(graph.constantValue(ins.get(1)), c) ? new String[] {ins.get(0), ins.get(1)} : null;
    }
    if (!(n.getOp().equals("Add") || n.getOp().equals("AddV2")) || a.channelsFirst()) return null;
    for (int k = 0; k < 2; k++) {
      if (isChannelVector(graph.constantValue(ins.get(k)), c) && graph.constantValue(ins.get(1 - k)) == null) {
        return new String[] {ins.get(1 - k), ins.get(k)};
      }
    }
    return null;
  }

  private static boolean isChannelVector(HostTensor t, int c) {
    return t != null && t.rank() == 1 && t.numElements() == c && t.dtype() != DataType.DT_STRING;
  }

  /** The node's only consumer is {@code reader}, through exactly one data edge. */
  private static boolean onlyReader(NodeGraph graph, String node, String reader) {
    Set<String> c = graph.consumerNodes(node);
    return c.size() == 1 && c.contains(reader) && graph.dataConsumers(node).size() == 1
        && graph.controlConsumers(node).isEmpty();
  }

  // ------------------------------------------------------------------ standalone: Mul + Add

  private static void toMulAdd(NodeGraph graph, NodeDef bn, Affine a) {
    int c = a.scale().length;
    long[] shape = new long[a.channelsFirst() ? a.rank() - 1 : 1];
    java.util.Arrays.fill(shape, 1);
    shape[0] = c;
    String scaleName = graph.uniqueName(bn.getName() + "/folded_scale");
    String shiftName = graph.uniqueName(bn.getName() + "/folded_shift");
    String mulName = graph.uniqueName(bn.getName() + "/folded_mul");
    graph.put(NodeGraph.constNode(scaleName, vector(a.scale(), a.dtype(), shape)));
    graph.put(NodeGraph.constNode(shiftName, vector(a.shift(), a.dtype(), shape)));
    AttrValue t = AttrValue.newBuilder().setType(a.dtype()).build();
    NodeDef.Builder mul = NodeDef.newBuilder().setName(mulName).setOp("Mul")
        .addInput(NodeGraph.dataInputs(bn).get(0)).addInput(scaleName).putAttr("T", t);
    for (String w : NodeGraph.controlInputs(bn)) mul.addInput("^" + w);
    graph.put(mul.build());
    graph.put(NodeDef.newBuilder().setName(bn.getName()).setOp("AddV2")
        .addInput(mulName).addInput(shiftName).putAttr("T", t).build());
  }

  // ------------------------------------------------------------------ helpers

  private static HostTensor vector(double[] v, DataType dt, long[] shape) {
    ByteBuffer b = ByteBuffer.allocate(v.length * DTypes.byteSize(dt)).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < v.length; i++) HostTensor.putDouble(b, i, dt, v[i]);
    return HostTensor.of(dt, shape, b);
  }

  private static boolean attrBool(NodeDef n, String name, boolean dflt) {
    AttrValue v = NodeGraph.attr(n, name);
    return v == null ? dflt : v.getB();
  }

  private static String attrString(NodeDef n, String name, String dflt) {
    AttrValue v = NodeGraph.attr(n, name);
    return v == null || v.getS().isEmpty() ? dflt : v.getS().toStringUtf8();
  }
}
