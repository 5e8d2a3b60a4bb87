package dev.tftrt.model;

import java.nio.file.Path;
import java.util.List;

/**
 * How to open a model: which MetaGraph (tags) and signature of a SavedModel, which checkpoint
 * for a .meta file, and optionally which tensors to treat as the inputs and outputs instead of
 * the signature's (cutting the graph there).
 */
public record LoadOptions(Path path, Path checkpoint, List<String> tags, String signature,
    List<String> inputs, List<String> outputs) {

  public LoadOptions {
    tags = tags == null ? List.of() : List.copyOf(tags);
    inputs = inputs == null ? List.of() : List.copyOf(inputs);
    outputs = outputs == null ? List.of() : List.copyOf(outputs);
  }

  /** Without a cut at the inputs. */
  public LoadOptions(Path path, Path checkpoint, List<String> tags, String signature, List<String> outputs) {
    this(path, checkpoint, tags, signature, List.of(), outputs);
  }

  public static LoadOptions of(Path path) {
    return new LoadOptions(path, null, List.of(), null, List.of(), List.of());
  }

  public LoadOptions withInputs(List<String> newInputs) {
    return new LoadOptions(path, checkpoint, tags, signature, newInputs, outputs);
  }

  public LoadOptions withOutputs(List<String> newOutputs) {
    return new LoadOptions(path, checkpoint, tags, signature, inputs, newOutputs);
  }
}
