package dev.tftrt.convert.ops;

import dev.tftrt.convert.ConverterTest;
import dev.tftrt.convert.Covers;
import dev.tftrt.convert.OnnxCheck;
import dev.tftrt.convert.TfBuilder;
import org.junit.jupiter.api.Test;

class ActivationsTest extends ConverterTest {
  @Test
  @Covers({"Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh", "Softplus", "Softsign"})
  void activations() {
    for (String op : new String[] {"Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh", "Softplus",
        "Softsign"}) {
      unary(op, rand.range(-8, 8, 2, 3, 5), s(-1, -1, 5)).run();
    }
  }

  @Test
  @Covers("LeakyRelu")
  void leakyReluAlpha() {
    for (float alpha : new float[] {0.2f, 0.01f, 1.5f}) {
      TfBuilder b = new TfBuilder();
      b.op("LeakyRelu").name("out").in(b.placeholder("x", F32, -1, 4)).attr("alpha", alpha)
          .attr("T", F32).build();
      OnnxCheck.of(b).feed("x", rand.floats(3, 4)).outputs("out").run();
    }
  }
}
