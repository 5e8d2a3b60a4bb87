package dev.tftrt.convert;

/**
 * A converter's check that threw instead of answering: a bug in that converter, not a verdict
 * on the node. The node stays in TensorFlow, and the conversion report lists it as a bug.
 *
 * @param converter the converter's class, as its simple name
 * @param op the node's op type
 * @param node the node being checked
 * @param error what the check threw, as {@code Throwable.toString()}
 */
public record ConverterBug(String converter, String op, String node, String error) {
  /** The reason recorded for the node: says it is tftrt's fault, not the model's. */
  public String reason() {
    return "the " + converter + " converter failed while checking it (" + error
        + "), a bug in tftrt, so it stays in TensorFlow.";
  }
}
