package dev.tftrt.precision;

import dev.tftrt.convert.onnx.AttributeProto;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.TensorProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The element type of every value in a segment's ONNX graph, from its inputs, initializers and
 * each op's output rule. The exporter writes no value_info for intermediate values, and the FP16
 * rewrite must know which values are float: only those change type.
 */
final class ElementTypes {
  private ElementTypes() {}

  static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
  static final int FLOAT16 = TensorProto.DataType.FLOAT16_VALUE;
  static final int INT64 = TensorProto.DataType.INT64_VALUE;
  static final int BOOL = TensorProto.DataType.BOOL_VALUE;

  private static final Set<String> BOOLEAN = Set.of("Equal", "Less", "Greater", "LessOrEqual",
      "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf");
  private static final Set<String> INDEX = Set.of("Shape", "Size", "NonZero", "ArgMax", "ArgMin");

  static Map<String, Integer> infer(GraphProto g) {
    Map<String, Integer> t = new HashMap<>();
    for (ValueInfoProto v : g.getInputList()) t.put(v.getName(), v.getType().getTensorType().getElemType());
    for (ValueInfoProto v : g.getValueInfoList()) t.put(v.getName(), v.getType().getTensorType().getElemType());
    for (TensorProto i : g.getInitializerList()) t.put(i.getName(), i.getDataType());
    for (NodeProto n : g.getNodeList()) {
      for (int k = 0; k < n.getOutputCount(); k++) {
        if (!n.getOutput(k).isEmpty()) t.put(n.getOutput(k), output(n, k, t));
      }
    }
    return t;
  }

  private static int output(NodeProto n, int k, Map<String, Integer> t) {
    String op = n.getOpType();
    if (BOOLEAN.contains(op)) return BOOL;
    if (INDEX.contains(op)) return INT64;
    switch (op) {
      case "Cast": return (int) attr(n, "to").getI();
      case "Constant": return attr(n, "value") != null ? attr(n, "value").getT().getDataType() : FLOAT;
      case "ConstantOfShape": return attr(n, "value") != null ? attr(n, "value").getT().getDataType() : FLOAT;
      case "DequantizeLinear": return in(n, 1, t);
      case "QuantizeLinear": return n.getInputCount() > 2 && !n.getInput(2).isEmpty()
          ? in(n, 2, t) : TensorProto.DataType.UINT8_VALUE;
      case "Where": return in(n, 1, t);
      case "TopK": case "MaxPool": return k == 0 ? in(n, 0, t) : INT64;
      case "OneHot": return in(n, 2, t);
      default: return in(n, 0, t);
    }
  }

  private static int in(NodeProto n, int i, Map<String, Integer> t) {
    if (i >= n.getInputCount()) return TensorProto.DataType.UNDEFINED_VALUE;
    return t.getOrDefault(n.getInput(i), TensorProto.DataType.UNDEFINED_VALUE);
  }

  static AttributeProto attr(NodeProto n, String name) {
    for (AttributeProto a : n.getAttributeList()) if (a.getName().equals(name)) return a;
    return null;
  }
}
