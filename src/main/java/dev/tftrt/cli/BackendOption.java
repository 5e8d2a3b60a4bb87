package dev.tftrt.cli;

import dev.tftrt.runtime.backend.Backend;
import picocli.CommandLine.Option;

/**
 * --backend, on the commands that use it: convert records it in each engine node; run and
 * compare run every engine of a converted model on it. Commands that never run an engine
 * (freeze, export-onnx, inspect) do not take it.
 */
final class BackendOption {
  @Option(names = "--backend", paramLabel = "NAME",
      description = {"Engine backend: auto (tensorrt on a GPU, else onnxruntime), tensorrt, onnxruntime or tensorflow.",
          "convert records it in each engine node; run and compare use it for every engine of a converted model."})
  String name;

  /** The backend given, or null when none was (one sentence, exit 2, for an unknown name). */
  Backend backend() {
    return name == null ? null : Backend.parse(name);
  }
}
