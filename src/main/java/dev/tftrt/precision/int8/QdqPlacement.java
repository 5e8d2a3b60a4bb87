package dev.tftrt.precision.int8;

import dev.tftrt.convert.onnx.AttributeProto;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where Q/DQ pairs go so that TensorRT fuses them into INT8 kernels: the data inputs of Conv,
 * ConvTranspose, MatMul and Gemm, both inputs of a residual Add that follows a convolution, and
 * the inputs of pooling; weights per output channel (Conv axis 0, ConvTranspose axis 1, a MatMul's
 * [K, N] weight axis 1, Gemm's B by transB). Never on shape ops (Reshape, Transpose, Concat,
 * Slice...), which would only break fusions. A pure function of the model: calibration asks it
 * which tensors to measure, and the rewrite which to quantize.
 */
public final class QdqPlacement {
  /**
   * One node input to quantize: node index, input index, the weight axis (-1: per tensor), and
   * the tensor whose calibrated range gives the scale (the input itself, but for pooling).
   */
  public record Use(int node, int input, String tensor, boolean weight, int axis, String rangeOf) {}

  private static final Set<String> POOLS = Set.of("MaxPool", "AveragePool", "GlobalAveragePool");
  /** Ops a conv's output may pass through before a residual Add and still count as "after a conv". */
  private static final Set<String> THROUGH = Set.of("Transpose", "Relu", "Clip", "BatchNormalization", "Add", "Mul");

  private final List<Use> uses;

  private QdqPlacement(List<Use> uses) {
    this.uses = uses;
  }

  public List<Use> uses() {
    return uses;
  }

  /** The activations to calibrate, in graph order, each once. */
  public List<String> activations() {
    Set<String> r = new LinkedHashSet<>();
    for (Use u : uses) if (!u.weight()) r.add(u.rangeOf());
    return new ArrayList<>(r);
  }

  public static QdqPlacement of(ModelProto m) {
    GraphProto g = m.getGraph();
    Map<String, TensorProto> init = new HashMap<>();
    for (TensorProto t : g.getInitializerList()) init.put(t.getName(), t);
    Map<String, NodeProto> producer = new HashMap<>();
    for (NodeProto n : g.getNodeList()) for (String o : n.getOutputList()) producer.put(o, n);
    List<Use> uses = new ArrayList<>();
    for (int i = 0; i < g.getNodeCount(); i++) {
      NodeProto n = g.getNode(i);
      switch (n.getOpType()) {
        case "Conv" -> {
          act(uses, i, 0, n, init, producer);
          weight(uses, i, 1, n, init, 0);
        }
        case "ConvTranspose" -> {
          act(uses, i, 0, n, init, producer);
          weight(uses, i, 1, n, init, 1);
        }
        case "MatMul" -> {
          for (int k = 0; k < 2 && k < n.getInputCount(); k++) {
            TensorProto w = init.get(n.getInput(k));
            if (w == null) act(uses, i, k, n, init, producer);
            else weight(uses, i, k, n, init, k == 1 && w.getDimsCount() == 2 ? 1 : -1);
          }
        }
        case "Gemm" -> {
          if (!init.containsKey(n.getInput(0))) act(uses, i, 0, n, init, producer);
          else weight(uses, i, 0, n, init, -1);
          if (init.containsKey(n.getInput(1))) weight(uses, i, 1, n, init, intAttr(n, "transB") != 0 ? 0 : 1);
          else act(uses, i, 1, n, init, producer);
        }
        case "Add" -> {
          if (n.getInputCount() == 2 && !isConst(n.getInput(0), init, producer) && !isConst(n.getInput(1), init, producer)
              && (followsConv(n.getInput(0), producer, init, 4) || followsConv(n.getInput(1), producer, init, 4))) {
            act(uses, i, 0, n, init, producer);
            act(uses, i, 1, n, init, producer);
          }
        }
        default -> {
          // pooling takes its output's range: max pooling commutes with quantization at one
          // scale (TensorRT runs DQ-pool-Q with one), and the input's own clip would cut exactly
          // the peaks a max pool selects
          if (POOLS.contains(n.getOpType()) && !isConst(n.getInput(0), init, producer)) {
            uses.add(new Use(i, 0, n.getInput(0), false, -1, n.getOutput(0)));
          }
        }
      }
    }
    return new QdqPlacement(uses);
  }

  private static void act(List<Use> uses, int node, int input, NodeProto n, Map<String, TensorProto> init,
      Map<String, NodeProto> producer) {
    String t = n.getInput(input);
    if (t.isEmpty() || isConst(t, init, producer)) return;
    uses.add(new Use(node, input, t, false, -1, t));
  }

  private static void weight(List<Use> uses, int node, int input, NodeProto n, Map<String, TensorProto> init, int axis) {
    if (input >= n.getInputCount()) return;
    TensorProto w = init.get(n.getInput(input));
    if (w == null || w.getDataType() != TensorProto.DataType.FLOAT_VALUE) return; // computed or already typed
    uses.add(new Use(node, input, w.getName(), true, axis < w.getDimsCount() ? axis : -1, w.getName()));
  }

  private static boolean isConst(String t, Map<String, TensorProto> init, Map<String, NodeProto> producer) {
    NodeProto p = producer.get(t);
    return init.containsKey(t) || (p != null && p.getOpType().equals("Constant"));
  }

  private static boolean followsConv(String t, Map<String, NodeProto> producer, Map<String, TensorProto> init, int depth) {
    NodeProto p = producer.get(t);
    for (int d = 0; p != null && d < depth; d++) {
      String op = p.getOpType();
      if (op.equals("Conv") || op.equals("ConvTranspose") || op.equals("MatMul") || op.equals("Gemm")) return true;
      if (!THROUGH.contains(op)) return false;
      if ((op.equals("Add") || op.equals("Mul")) && !(isConst(p.getInput(1), init, producer) || isConst(p.getInput(0), init, producer))) {
        return false; // another Add of two tensors is a junction, not a bias
      }
      String next = isConst(p.getInput(0), init, producer) && p.getInputCount() > 1 ? p.getInput(1) : p.getInput(0);
      p = producer.get(next);
    }
    return false;
  }

  static long intAttr(NodeProto n, String name) {
    for (AttributeProto a : n.getAttributeList()) if (a.getName().equals(name)) return a.getI();
    return 0;
  }

  /** Counts of uses by op type of the consumer, for reports. */
  public Map<String, Integer> countByOp(ModelProto m) {
    Map<String, Integer> r = new LinkedHashMap<>();
    for (Use u : uses) r.merge(m.getGraph().getNode(u.node()).getOpType(), 1, Integer::sum);
    return r;
  }
}
