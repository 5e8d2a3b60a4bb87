package dev.tftrt.cli;

import dev.tftrt.TftrtException;
import dev.tftrt.model.LoadOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options every command that opens a TensorFlow model shares. */
final class CommonOptions {
  @Option(names = "--signature", paramLabel = "KEY", description = "SavedModel signature (default: serving_default, or the only one).")
  String signature;

  @Option(names = "--tags", split = ",", paramLabel = "TAG", description = "SavedModel MetaGraph tags (default: serve).")
  List<String> tags = new ArrayList<>();

  @Option(names = "--checkpoint", paramLabel = "PREFIX", description = "Checkpoint prefix for a .meta model (default: the one beside it).")
  Path checkpoint;

  @Option(names = "--inputs", split = ",", paramLabel = "TENSOR", description = "Cut the graph here: feed these tensors instead of the signature's inputs.")
  List<String> inputs = new ArrayList<>();

  @Option(names = "--outputs", split = ",", paramLabel = "TENSOR", description = "Use these tensors as the outputs instead of the signature's.")
  List<String> outputs = new ArrayList<>();

  @Option(names = "--shape", paramLabel = "NAME=D1,D2,...", description = "Shape of an input, for unknown dimensions (repeatable).")
  List<String> shapeArgs = new ArrayList<>();

  @Option(names = "--backend", paramLabel = "NAME",
      description = "Engine backend: auto (tensorrt on a GPU, else onnxruntime), tensorrt, onnxruntime or"
          + " tensorflow. The convert command records it in each engine node; run and compare use it for every"
          + " engine of a converted model.")
  String backend;

  @Option(names = {"-v", "--verbose"}, description = "Show TensorFlow's own log lines and stack traces.")
  boolean verbose;

  LoadOptions load(Path model) {
    return new LoadOptions(model, checkpoint, tags, signature, inputs, outputs);
  }

  Map<String, long[]> shapes() {
    return parseShapes(shapeArgs);
  }

  static Map<String, long[]> parseShapes(List<String> args) {
    Map<String, long[]> r = new LinkedHashMap<>();
    for (String a : args) {
      int eq = a.lastIndexOf('=');
      if (eq <= 0) throw new TftrtException("--shape " + a + " is not of the form name=d1,d2,...");
      String dims = a.substring(eq + 1).trim();
      long[] d;
      try {
        d = dims.isEmpty() ? new long[0]
            : java.util.Arrays.stream(dims.split("[,x]")).mapToLong(s -> Long.parseLong(s.trim())).toArray();
      } catch (NumberFormatException e) {
        throw new TftrtException("--shape " + a + " has a dimension that is not a whole number.");
      }
      for (long x : d) {
        if (x < 0) throw new TftrtException("--shape " + a + " has a negative dimension.");
      }
      r.put(a.substring(0, eq), d);
    }
    return r;
  }
}
