package dev.tftrt.cli;

import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.tensor.HostTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import picocli.CommandLine.Option;

/** How freeze, export-onnx and convert check what they made against the original. */
final class VerifyOptions {
  @Option(names = "--no-verify", description = "Skip the check against the original.")
  boolean skip;

  @Option(names = "--allow-unverified",
      description = "Write the output even when the check cannot be made (the original fails on generated inputs or is not deterministic); without it such a run exits 1 and writes nothing.")
  boolean allowUnverified;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the check's random inputs (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = {"-i", "--input"}, paramLabel = "NAME=VALUE",
      description = "Feed this input in the check instead of a random one (as for run; repeatable).")
  List<String> inputs = new ArrayList<>();

  boolean verify() {
    return !skip;
  }

  /** The warning a run written unchecked (--allow-unverified) prints on stderr. */
  void warnIfUnverified(java.io.PrintWriter err, dev.tftrt.runtime.Verification.Report r, java.nio.file.Path out) {
    if (r != null && r.skippedBecause() != null) {
      err.println("tftrt: " + dev.tftrt.runtime.VerificationSkippedException.warning(r, out));
    }
  }

  /** The --input values for the original model, keyed by its input names. */
  Function<ModelRunner, Map<String, HostTensor>> given() {
    InputOptions parsed = new InputOptions();
    parsed.inputs = inputs;
    return parsed::given;
  }

  /** What the check was fed, for the summary line. */
  String describe() {
    return inputs.isEmpty() ? "random, seed " + seed : String.join(" ", inputs) + ", others random (seed " + seed + ")";
  }
}
