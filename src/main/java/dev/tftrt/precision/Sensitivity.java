package dev.tftrt.precision;

import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TypeProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.tensor.HostTensor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which FP16 nodes cost the most accuracy: each value of the FP32 segment is compared with the
 * same value in the FP16 emulation (relative L2 error), and a node's cost is the error it adds,
 * its output's error less the largest error of its inputs. The worst tenth (at least one) goes
 * up a precision (int8 to the rest's, fp16 to fp32) per round of {@code --accuracy-budget}.
 */
final class Sensitivity {
  private Sensitivity() {}

  static List<String> worst(ModelProto fp32, PrecisionStage.Result reduced, List<Map<String, HostTensor>> samples) {
    GraphProto g = fp32.getGraph();
    Map<String, Integer> types = ElementTypes.infer(g);
    Set<String> values = new HashSet<>();
    for (NodeProto n : g.getNodeList()) {
      for (String o : n.getOutputList()) if (types.getOrDefault(o, 0) == ElementTypes.FLOAT) values.add(o);
    }
    Map<String, double[]> err = new HashMap<>(); // sum (a-b)^2, sum b^2
    try (OnnxRunner a = new OnnxRunner(expose(fp32, values).toByteArray(), "the FP32 segment");
        OnnxRunner b = new OnnxRunner(expose(Fp16Emulation.of(reduced.model()), values).toByteArray(), "the FP16 emulation")) {
      for (Map<String, HostTensor> s : samples) {
        Map<String, HostTensor> ra = a.run(s), rb = b.run(s);
        for (String v : values) {
          HostTensor x = ra.get(v), y = rb.get(v);
          if (x == null || y == null || x.numElements() != y.numElements()) continue;
          double[] e = err.computeIfAbsent(v, k -> new double[2]);
          for (long i = 0, n = x.numElements(); i < n; i++) {
            double p = x.getDouble(i), q = y.getDouble(i);
            if (!Double.isFinite(p) || !Double.isFinite(q)) continue;
            e[0] += (p - q) * (p - q);
            e[1] += p * p;
          }
        }
      }
    }
    Map<String, Double> rel = new HashMap<>();
    err.forEach((k, e) -> rel.put(k, e[1] == 0 ? (e[0] == 0 ? 0 : 1) : Math.sqrt(e[0] / e[1])));
    Map<String, Double> cost = new HashMap<>();
    for (NodeProto n : g.getNodeList()) {
      PrecisionTable.Row r = reduced.table().row(n.getName());
      if (r == null || !(r.precision().equals("fp16") || r.precision().equals("int8"))) continue;
      double out = 0, in = 0;
      for (String o : n.getOutputList()) out = Math.max(out, rel.getOrDefault(o, 0.0));
      for (String i : n.getInputList()) in = Math.max(in, rel.getOrDefault(i, 0.0));
      cost.put(n.getName(), out - in);
    }
    List<String> order = new ArrayList<>(cost.keySet());
    order.sort(Comparator.comparingDouble((String k) -> -cost.get(k)).thenComparing(k -> k));
    return order.subList(0, Math.min(order.size(), Math.max(1, order.size() / 10)));
  }

  private static ModelProto expose(ModelProto m, Set<String> values) {
    Set<String> have = new HashSet<>();
    for (ValueInfoProto v : m.getGraph().getOutputList()) have.add(v.getName());
    GraphProto.Builder b = m.getGraph().toBuilder();
    for (String v : values) {
      if (have.contains(v)) continue;
      b.addOutput(ValueInfoProto.newBuilder().setName(v).setType(TypeProto.newBuilder()
          .setTensorType(TypeProto.Tensor.newBuilder().setElemType(ElementTypes.FLOAT))));
    }
    return m.toBuilder().setGraph(b).build();
  }
}
