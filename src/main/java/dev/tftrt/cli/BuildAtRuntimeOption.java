package dev.tftrt.cli;

import dev.tftrt.runtime.TftrtModel;
import dev.tftrt.runtime.backend.Backend;
import picocli.CommandLine.Option;

/**
 * --[no-]allow-build-at-runtime on run, compare and bench, with the meaning it has on build and convert:
 * whether the tensorrt backend builds an engine that neither the model's manifest nor a cache
 * holds for this GPU. Not given: the process's setting (on).
 */
final class BuildAtRuntimeOption {
  @Option(names = "--allow-build-at-runtime", negatable = true,
      description = "Build a missing or mismatching TensorRT engine when the model loads (default: on). When off,"
          + " a mismatch says which part of the engine's key differs.")
  Boolean allow;

  /** How a converted model is loaded: every engine on backend (null: its own), this option. */
  TftrtModel.Options load(Backend backend) {
    return TftrtModel.Options.defaults().withBackend(backend).withAllowBuildAtRuntime(allow);
  }
}
