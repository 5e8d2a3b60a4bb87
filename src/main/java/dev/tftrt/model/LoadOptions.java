package dev.tftrt.model;

import java.nio.file.Path;
import java.util.List;

/**
 * How to open a model: which MetaGraph (tags) and signature of a SavedModel, which checkpoint
 * for a .meta file, and optionally which tensors to treat as the outputs instead of the
 * signature's.
 */
public record LoadOptions(Path path, Path checkpoint, List<String> tags, String signature,
    List<String> outputs) {

  public LoadOptions {
    tags = tags == null ? List.of() : List.copyOf(tags);
    outputs = outputs == null ? List.of() : List.copyOf(outputs);
  }

  public static LoadOptions of(Path path) {
    return new LoadOptions(path, null, List.of(), null, List.of());
  }

  public LoadOptions withOutputs(List<String> newOutputs) {
    return new LoadOptions(path, checkpoint, tags, signature, newOutputs);
  }
}
