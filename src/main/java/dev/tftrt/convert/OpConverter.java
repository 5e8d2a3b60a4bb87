package dev.tftrt.convert;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Converts one family of TensorFlow ops to ONNX. A converter only reads the TensorFlow graph
 * (through {@link NodeView}) and appends ONNX nodes and initializers to an {@link OnnxEmitter};
 * it never changes the TensorFlow graph.
 *
 * <p>{@link #validate} is the single source of truth for what converts: the segmenter makes a
 * node a TensorRT candidate exactly when its converter's validator accepts it, and {@link
 * #convert} may assume validation passed.
 */
public interface OpConverter {
  /** The TensorFlow op types this converter handles. */
  Set<String> opTypes();

  /** What the op's inputs are and which dtypes it accepts. */
  Signature signature(String opType);

  /**
   * Empty when the node converts; otherwise one sentence (without the node's name) saying why
   * not. Should not throw: an exception here is a bug in the converter, which the registry
   * counts, logs and reports as one (see {@link ConverterRegistry#check}), keeping the node in
   * TensorFlow.
   */
  Optional<String> validate(NodeView node);

  /** Appends the ONNX equivalent of node to out and binds the node's used outputs. */
  void convert(NodeView node, OnnxEmitter out);

  /** Whether input i of an op must be a constant in the graph. */
  default boolean isWeightInput(String opType, int i) {
    List<Signature.Input> in = signature(opType).inputs();
    return i < in.size() && in.get(i).kind() == Signature.Kind.WEIGHT;
  }
}
