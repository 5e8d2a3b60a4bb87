package dev.tftrt.model;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * How to open a model: which MetaGraph (tags) and signature of a SavedModel, which checkpoint
 * for a .meta file, and optionally which tensors to treat as the inputs and outputs instead of
 * the signature's (cutting the graph there); {@code bindings} (--set NAME=VALUE) bind inputs or
 * placeholders to constant values, which the model then no longer takes as inputs.
 */
public record LoadOptions(Path path, Path checkpoint, List<String> tags, String signature,
    List<String> inputs, List<String> outputs, Map<String, String> bindings) {

  public LoadOptions {
    tags = tags == null ? List.of() : List.copyOf(tags);
    inputs = inputs == null ? List.of() : List.copyOf(inputs);
    outputs = outputs == null ? List.of() : List.copyOf(outputs);
    bindings = bindings == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(bindings));
  }

  /** Without bindings. */
  public LoadOptions(Path path, Path checkpoint, List<String> tags, String signature,
      List<String> inputs, List<String> outputs) {
    this(path, checkpoint, tags, signature, inputs, outputs, Map.of());
  }

  /** Without a cut at the inputs. */
  public LoadOptions(Path path, Path checkpoint, List<String> tags, String signature, List<String> outputs) {
    this(path, checkpoint, tags, signature, List.of(), outputs);
  }

  public static LoadOptions of(Path path) {
    return new LoadOptions(path, null, List.of(), null, List.of(), List.of());
  }

  public LoadOptions withInputs(List<String> newInputs) {
    return new LoadOptions(path, checkpoint, tags, signature, newInputs, outputs, bindings);
  }

  public LoadOptions withOutputs(List<String> newOutputs) {
    return new LoadOptions(path, checkpoint, tags, signature, inputs, newOutputs, bindings);
  }

  /** name → value text (a number, true/false, or a .npy file), as --set gives them. */
  public LoadOptions withBindings(Map<String, String> newBindings) {
    return new LoadOptions(path, checkpoint, tags, signature, inputs, outputs, newBindings);
  }
}
