package dev.tftrt.runtime;

import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.HostTensor;
import java.util.List;
import java.util.Map;

/**
 * Something that runs a model on host tensors: a TensorFlow graph today; an ONNX model or a
 * converted model plug in behind the same interface, so run and compare take any of them.
 * Feeds and results are keyed by {@link TensorSpec#key()}.
 */
public interface ModelRunner extends AutoCloseable {
  /** Human-readable origin, e.g. the path. */
  String describe();

  List<TensorSpec> inputs();

  List<TensorSpec> outputs();

  Map<String, HostTensor> run(Map<String, HostTensor> feeds);

  /**
   * Seeded random inputs this model accepts; unknown dimensions are 1 unless given in shapes.
   * A runner that knows more about its inputs (a string that must be a WAV file) overrides it.
   */
  default Map<String, HostTensor> randomInputs(Map<String, long[]> shapes, long seed) {
    Feeds.checkShapeNames(inputs(), shapes, describe());
    return Feeds.random(inputs(), shapes, seed);
  }

  @Override
  void close();
}
