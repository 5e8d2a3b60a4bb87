package dev.tftrt.precision;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The precision of every node of one segment's ONNX model, with the rule that decided it: what
 * `inspect` shows and the report lists. Precisions: {@code fp16}, {@code fp32}, {@code int8}
 * (fed by a DequantizeLinear that TensorRT fuses into the op), {@code q/dq}, and {@code -} for
 * nodes without float values (shapes, indices). {@code reference} says what the reference run
 * that measured magnitudes ran on.
 */
public record PrecisionTable(List<Row> rows, int castsPlaced, int castsRemoved, String reference) {
  public record Row(String node, String op, String tfNode, String precision, String reason) {
    Row with(String p, String why) {
      return new Row(node, op, tfNode, p, why);
    }
  }

  /** Every node as FP32 (or "-"): the table of a segment left in FP32. */
  public static PrecisionTable fp32(dev.tftrt.convert.onnx.ModelProto m) {
    Map<String, Integer> types = ElementTypes.infer(m.getGraph());
    List<Row> rows = m.getGraph().getNodeList().stream().map(n -> {
      boolean f = false;
      for (String v : n.getInputList()) f |= types.getOrDefault(v, 0) == ElementTypes.FLOAT;
      for (String v : n.getOutputList()) f |= types.getOrDefault(v, 0) == ElementTypes.FLOAT;
      return new Row(n.getName(), n.getOpType(), n.getDocString(), f ? "fp32" : "-", f ? "" : "no float values");
    }).toList();
    return new PrecisionTable(rows, 0, 0, "");
  }

  /** Nodes per precision, e.g. {fp16=40, fp32=3, -=5}. */
  public Map<String, Integer> counts() {
    Map<String, Integer> c = new TreeMap<>();
    for (Row r : rows) c.merge(r.precision(), 1, Integer::sum);
    return c;
  }

  public Row row(String node) {
    for (Row r : rows) if (r.node().equals(node)) return r;
    return null;
  }

  /** For report.json. */
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("counts", counts());
    m.put("castsPlaced", castsPlaced);
    m.put("castsRemoved", castsRemoved);
    if (!reference.isEmpty()) m.put("referenceRun", reference);
    m.put("nodes", rows.stream().map(r -> {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("node", r.node());
      x.put("op", r.op());
      if (!r.tfNode().isEmpty()) x.put("tfNode", r.tfNode());
      x.put("precision", r.precision());
      if (!r.reason().isEmpty()) x.put("reason", r.reason());
      return x;
    }).toList());
    return m;
  }
}
