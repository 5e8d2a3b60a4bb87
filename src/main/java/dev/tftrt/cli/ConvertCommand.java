package dev.tftrt.cli;

import dev.tftrt.build.GpuDetection;
import dev.tftrt.build.GpuInfo;
import dev.tftrt.pipeline.BuildJob;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.precision.Precision;
import dev.tftrt.runtime.backend.Backend;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "convert", mixinStandardHelpOptions = true,
    description = "Converts a model into a graph that runs what converts in engine nodes. It freezes the model if"
        + " needed, optimizes it, finds the segments that convert, turns each into one engine node (run by the"
        + " chosen backend), and writes OUTDIR: a SavedModel, each engine's payloads (payloads/SHA256.onnx),"
        + " tftrt.json and report.json/report.md. Checks the converted model against the original on random input"
        + " (rtol 1e-3, atol 1e-4) before writing, unless --no-verify.")
final class ConvertCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MODEL", description = "Any TensorFlow model tftrt reads.")
  Path model;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUTDIR", description = "The folder to write the converted model to.")
  Path out;

  @Option(names = "--overwrite", description = "Replace OUTDIR if it exists and holds only a converted model (never an input of this run).")
  boolean overwrite;

  @Option(names = "--precision", defaultValue = "fp32", description = "Engine precision: fp32, fp16 (FP16 weights and casts in each engine's ONNX) or int8 (Q/DQ with"
      + " scales calibrated on --calibration-data, the rest per --int8-rest).")
  String precision;

  @Option(names = "--calibration-data", paramLabel = "PATH",
      description = "With int8: a .npz of the model's inputs with a batch axis, a folder of .npy/.npz files, or a folder of"
          + " PNG/JPEG images (see --preprocess). The last samples (a fifth, at most 64) are held out to measure accuracy.")
  String calibrationData;

  @Option(names = "--calibrator", paramLabel = "max|percentile[:P]|entropy|mse",
      description = "With int8: how a histogram becomes a range (default: percentile:99.99).")
  String calibrator;

  @Option(names = "--calibration-cache", paramLabel = "FILE",
      description = "With int8: read the ranges from FILE when it exists (it must be for these segments), else write them"
          + " there after calibrating.")
  String calibrationCache;

  @Option(names = "--preprocess", paramLabel = "SPEC",
      description = "With int8 and images: KEY=VALUE pairs joined by commas, keys scale (e.g. 1/255), mean and std"
          + " (one value or R:G:B), order (rgb or bgr) and layout (nhwc, nchw or auto).")
  String preprocess;

  @Option(names = "--int8-rest", paramLabel = "fp16|fp32",
      description = "With int8: the precision of the ops without Q/DQ (default: fp16).")
  String int8Rest;

  @Option(names = "--keep-fp32", split = ",", paramLabel = "OPS_OR_NODES",
      description = "With fp16: ONNX op types (Resize), TensorFlow or ONNX node names, or tensor names kept in FP32.")
  java.util.Set<String> keepFp32 = new java.util.LinkedHashSet<>();

  @Option(names = "--accuracy-budget", paramLabel = "COSINE",
      description = "With fp16 or int8: the lowest cosine each engine output may have against FP32 (e.g. 0.9999); the most sensitive nodes go up a precision until it holds.")
  Double accuracyBudget;

  @Option(names = "--opset", defaultValue = "17", description = "ONNX opset of the segments (default: ${DEFAULT-VALUE}).")
  int opset;

  @Option(names = "--fallback", defaultValue = "none", paramLabel = "none|tensorflow",
      description = "tensorflow: also keep each engine's original segment, so the model can run with --backend tensorflow (default: ${DEFAULT-VALUE}).")
  String fallback;

  @Option(names = "--keep-frozen", description = "Also write the frozen original into OUTDIR, as frozen.pb with its sidecar frozen.json.")
  boolean keepFrozen;

  @Option(names = "--build", description = "Also build every engine for this GPU with TensorRT (see tftrt build).")
  boolean build;

  @Mixin TensorRtOptions trt;

  @Mixin CommonOptions common;
  @Mixin BindOptions bind;
  @Mixin VerifyOptions check;
  @Mixin SegmentOptions segments;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Mixin BackendOption backendOption;

  /** --backend (shared with run and compare) is what engines run on: auto unless given. */
  private Backend backend() {
    Backend b = backendOption.backend();
    return b == null ? Backend.AUTO : b;
  }

  private double budget() {
    if (accuracyBudget == null) return Double.NaN;
    if (!(accuracyBudget > 0 && accuracyBudget <= 1)) {
      throw new dev.tftrt.TftrtException("--accuracy-budget " + accuracyBudget + " is not a cosine in (0, 1].");
    }
    return accuracyBudget;
  }

  @Override
  public Integer call() {
    Interruption.prepare();
    PrintWriter pw = spec.commandLine().getOut();
    // engines built while verifying (backend auto or tensorrt on a GPU) use these options too
    dev.tftrt.runtime.backend.TensorRtSettings.set(new dev.tftrt.runtime.backend.TensorRtSettings(
        trt.engineCache != null ? trt.engineCache : dev.tftrt.build.BuildOptions.defaultEngineCacheDir(), trt.options(), true));
    BuildJob.Options buildOptions = null;
    if (build) {
      // before converting: a machine that cannot build says so at once, not after the conversion
      buildOptions = new BuildJob.Options(out, trt.engineCache, trt.options(), true);
      GpuInfo gpu = GpuDetection.detect();
      if (!gpu.usable()) throw new dev.tftrt.TftrtException("cannot build TensorRT engines (--build): " + gpu.problem());
    }
    Precision p = Precision.parse(precision);
    dev.tftrt.precision.int8.Int8Options int8 = null;
    if (p == Precision.INT8) {
      int8 = dev.tftrt.precision.int8.Int8Options.parse(calibrator, calibrationData, calibrationCache, preprocess, int8Rest);
    } else {
      String given = calibrationData != null ? "--calibration-data" : calibrator != null ? "--calibrator"
          : calibrationCache != null ? "--calibration-cache" : preprocess != null ? "--preprocess"
          : int8Rest != null ? "--int8-rest" : null;
      if (given != null) throw new dev.tftrt.TftrtException(given + " is for --precision int8 only.");
    }
    ConvertJob.Report r;
    try {
      r = ConvertJob.run(ConvertJob.builder(bind.apply(common.load(model)), out).shapes(common.shapes())
          .segments(segments.options()).backend(backend()).precision(p).opset(opset)
          .verify(check.verify()).allowUnverified(check.allowUnverified).seed(check.seed).givenFor(check.given())
          .overwrite(overwrite).fallback(fallback).keepFrozen(keepFrozen)
          .floats(new ConvertJob.FloatOptions(keepFp32, budget())).int8(int8).build());
    } catch (dev.tftrt.runtime.VerificationFailedException e) {
      Printing.diffs(pw, e.report().diffs());
      throw new Main.CheckFailedException(e.getMessage());
    }
    int[] heavy = r.plan().computeHeavyInEngines();
    pw.printf("converted %s -> %s in %.1f s%n", model, out, r.millis() / 1e3);
    pw.printf("  nodes: %d frozen, %d optimized; %d engine(s); %d node(s) left in TensorFlow;"
        + " compute-heavy ops in engines: %d of %d%n", r.plan().frozen().graph().getNodeCount(),
        r.plan().optimized().nodesAfter(), r.engines().size(), r.plan().nodesLeftInTensorFlow(), heavy[0], heavy[1]);
    for (ConvertJob.Engine e : r.engines()) {
      pw.printf("  %s: %d ops, %d ONNX nodes, %d transposes, backend %s%n", e.node().name(), e.segment().size(),
          e.onnx().getGraph().getNodeCount(), e.transposes(), r.backends().getOrDefault(e.node().name(), backend().label()));
      if (e.precision().accuracy() != null) {
        pw.printf("    %s: nodes %s%n", e.node().precision(), e.precision().table().counts());
        pw.printf("    against %s: lowest cosine %.6f%s%n", e.precision().against(),
            dev.tftrt.precision.Accuracy.minCosine(e.precision().accuracy()),
            e.precision().reverted().isEmpty() ? "" : "; reverted to FP32: " + String.join(", ", e.precision().reverted()));
      }
    }
    if (r.calibration() != null) {
      var c = r.calibration();
      if (c.fromCache()) pw.println("  INT8 ranges read from " + c.options().calibrationCache());
      else pw.printf("  INT8 calibration (%s): %d sample(s) in %.1f s%s%n", c.options().calibrator().label(),
          c.calibratedRows(), c.millis() / 1e3, c.writeCache() == null ? "" : "; cache written to " + c.writeCache());
      pw.println("  accuracy measured on " + c.heldOutText());
    }
    if (r.verification() == null) {
      pw.println("  verification: skipped (--no-verify)");
    } else if (r.verification().skippedBecause() != null) {
      pw.println("  verification: not run: " + r.verification().skippedBecause());
      check.warnIfUnverified(spec.commandLine().getErr(), r.verification(), out);
    } else {
      String inputs = r.calibration() != null && r.calibration().heldOutRows() > 0
          ? "the held-out calibration samples" : check.describe();
      pw.println("  verification against the original (inputs: " + inputs + "):");
      Printing.diffs(pw, r.verification().diffs());
    }
    if (r.accuracy() != null) {
      for (dev.tftrt.precision.Accuracy.Output a : r.accuracy()) {
        if (!Double.isNaN(a.agreement())) {
          pw.printf("  %s: %.2f%% agreement with the original (%s)%n", a.name(), 100 * a.agreement(), a.agreementOf());
        }
      }
    }
    if (buildOptions != null) {
      pw.println("  TensorRT engines:");
      BuildCommand.print(pw, BuildJob.run(buildOptions));
    }
    pw.println("  report: " + out.resolve("report.md"));
    return Main.OK;
  }
}
