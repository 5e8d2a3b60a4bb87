package dev.tftrt.precision;

import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TypeProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.tensor.HostTensor;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs the FP32 segment in ONNX Runtime with every float value exposed as a graph output (on a
 * copy), and keeps per value only its largest magnitude and element count: what the FP16 rules
 * need (AutoCast's limit on magnitudes, the size of reductions), never the activations.
 */
final class ReferenceRun {
  private ReferenceRun() {}

  /** One value's figures over all samples. */
  record Stat(double maxAbs, long elements) {}

  static Map<String, Stat> measure(ModelProto model, List<Map<String, HostTensor>> samples) {
    GraphProto g = model.getGraph();
    Map<String, Integer> types = ElementTypes.infer(g);
    Set<String> outputs = new HashSet<>();
    for (ValueInfoProto v : g.getOutputList()) outputs.add(v.getName());
    GraphProto.Builder b = g.toBuilder();
    for (NodeProto n : g.getNodeList()) {
      for (String o : n.getOutputList()) {
        if (o.isEmpty() || outputs.contains(o) || types.getOrDefault(o, 0) != ElementTypes.FLOAT) continue;
        outputs.add(o);
        b.addOutput(ValueInfoProto.newBuilder().setName(o).setType(TypeProto.newBuilder()
            .setTensorType(TypeProto.Tensor.newBuilder().setElemType(ElementTypes.FLOAT))));
      }
    }
    Map<String, Stat> stats = new HashMap<>();
    try (OnnxRunner r = new OnnxRunner(model.toBuilder().setGraph(b).build().toByteArray(),
        "the segment's reference run")) {
      for (Map<String, HostTensor> sample : samples) {
        Map<String, HostTensor> all = new HashMap<>(sample);
        all.putAll(r.run(sample));
        for (Map.Entry<String, HostTensor> e : all.entrySet()) {
          HostTensor t = e.getValue();
          if (t.dtype() != org.tensorflow.proto.DataType.DT_FLOAT) continue;
          double m = 0;
          for (long i = 0, n = t.numElements(); i < n; i++) {
            double v = Math.abs(t.getDouble(i));
            if (v > m || Double.isNaN(v)) m = Double.isNaN(v) ? Double.POSITIVE_INFINITY : v;
          }
          Stat old = stats.get(e.getKey());
          stats.put(e.getKey(), new Stat(old == null ? m : Math.max(m, old.maxAbs()), t.numElements()));
        }
      }
    }
    return stats;
  }
}
