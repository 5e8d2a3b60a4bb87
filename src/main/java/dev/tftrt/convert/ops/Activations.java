package dev.tftrt.convert.ops;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.Signature;
import java.util.Map;
import org.tensorflow.proto.DataType;

/** Activation functions. */
public final class Activations extends BaseConverter {
  private static final Map<String, String> DIRECT = Map.of(
      "Relu", "Relu", "Elu", "Elu", "Sigmoid", "Sigmoid", "Tanh", "Tanh",
      "Softplus", "Softplus", "Softsign", "Softsign");

  public Activations() {
    Signature floats = Signature.builder().tensor("features").types("T", Signature.FLOATS).build();
    register(floats, "Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus",
        "Softsign");
  }

  @Override
  public void convert(NodeView node, OnnxEmitter out) {
    String x = out.input(node, 0);
    String y = out.output(node, 0);
    String direct = DIRECT.get(node.op());
    if (direct != null) {
      out.node(direct).in(x).out(y).emit();
      return;
    }
    DataType t = node.inputType(0);
    switch (node.op()) {
      case "Relu6":
        out.node("Clip").in(x, out.scalar("zero", t, 0), out.scalar("six", t, 6)).out(y).emit();
        break;
      case "Selu":
        // TensorFlow's constants, the same values ONNX's defaults approximate.
        out.node("Selu").in(x).attr("alpha", 1.6732632423543772f)
            .attr("gamma", 1.0507009873554805f).out(y).emit();
        break;
      case "LeakyRelu":
        out.node("LeakyRelu").in(x).attr("alpha", node.attrFloat("alpha", 0.2f)).out(y).emit();
        break;
      default:
        throw new IllegalStateException(node.op());
    }
  }
}
