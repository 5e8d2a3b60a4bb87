package dev.tftrt.convert;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorNames;

/**
 * An output the caller needs that the node's converter does not produce (a FusedBatchNorm's
 * batch statistics in inference form, say). It is the node's limit, not a bug: segmenting keeps
 * such a node in TensorFlow; exporting a whole graph that needs the output is refused.
 */
public final class UnproducedOutputException extends TftrtException {
  private static final long serialVersionUID = 1L;
  private final String tensor;

  public UnproducedOutputException(String tensor, String op) {
    super("output " + TensorNames.index(tensor) + " of node " + TensorNames.node(tensor) + " (" + op
        + ") is needed, but its converter does not produce it.");
    this.tensor = tensor;
  }

  /** The tensor that was needed. */
  public String tensor() {
    return tensor;
  }
}
