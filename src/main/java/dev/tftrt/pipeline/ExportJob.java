package dev.tftrt.pipeline;

import dev.tftrt.convert.ops.StandardConverters;
import dev.tftrt.convert.OnnxExporter;

import dev.tftrt.model.TensorNames;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.freeze.FreezeResult;
import dev.tftrt.freeze.Freezer;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.optimize.Optimizer;
import dev.tftrt.optimize.PassContext;
import org.tensorflow.proto.GraphDef;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.runtime.TfRunner;
import dev.tftrt.runtime.Verification;
import dev.tftrt.runtime.VerificationFailedException;
import dev.tftrt.runtime.VerificationSkippedException;
import dev.tftrt.util.AtomicFiles;
import dev.tftrt.util.OutputTargets;
import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.tensor.HostTensor;
import java.nio.file.Path;
import java.util.function.Function;
import java.util.List;
import java.util.Map;

/**
 * What `tftrt export-onnx` does, callable from Java: open a model (any form), freeze it in
 * memory, fix the input shapes given, optimize (identities, constant folding, BatchNorm), convert everything between its inputs and outputs to one ONNX model, check it
 * against TensorFlow with ONNX Runtime, and write it.
 */
public final class ExportJob {
  private ExportJob() {}

  /** Conversions change float rounding (fused kernels, other summation orders), not results. */
  public static final double RTOL = 1e-3;
  public static final double ATOL = 1e-4;

  /**
   * What to export; given feeds the check the inputs it returns for the original (null: none).
   * Made with {@link #builder} or the short constructors. A check that cannot be made writes
   * nothing unless {@code allowUnverified}.
   */
  public record Options(LoadOptions load, Path out, int opset, Map<String, long[]> shapes,
      boolean verify, long seed, Function<ModelRunner, Map<String, HostTensor>> given, boolean overwrite,
      boolean allowUnverified) {
    public Options(LoadOptions load, Path out, int opset, Map<String, long[]> shapes,
        boolean verify, long seed, Function<ModelRunner, Map<String, HostTensor>> given) {
      this(load, out, opset, shapes, verify, seed, given, false, false);
    }

    public Options(LoadOptions load, Path out, int opset, Map<String, long[]> shapes, boolean verify, long seed) {
      this(load, out, opset, shapes, verify, seed, null, false, false);
    }

    /** The same, replacing an existing output file (never an input; see {@link OutputTargets}). */
    public Options withOverwrite(boolean yes) {
      return new Options(load, out, opset, shapes, verify, seed, given, yes, allowUnverified);
    }

    /** The same, writing even when the check could not be made (the CLI's --allow-unverified). */
    public Options withAllowUnverified(boolean yes) {
      return new Options(load, out, opset, shapes, verify, seed, given, overwrite, yes);
    }
  }

  public static Builder builder(LoadOptions load, Path out) {
    return new Builder(load, out);
  }

  /** Builds {@link Options}: opset 17, verified on seed 0, no shapes, nothing given, no overwrite. */
  public static final class Builder extends JobBuilder<Builder> {
    private int opset = OnnxExporter.DEFAULT_OPSET;

    private Builder(LoadOptions load, Path out) {
      super(load, out);
    }

    public Builder opset(int v) {
      opset = v;
      return this;
    }

    public Options build() {
      return new Options(load, out, opset, shapes, verify, seed, given, overwrite, allowUnverified);
    }
  }

  public record Report(ModelProto model, FreezeResult frozen, Optimizer.Result optimized,
      Verification.Report verification, long exportNanos) {}

  public static Report run(Options o) {
    if (o.out() != null) checkTarget(o); // before the work, so a refusal costs nothing
    try (TfModel model = TfModel.load(o.load())) {
      FreezeResult frozen = Freezer.freeze(model);
      GraphDef graph = Freezer.withInputShapes(frozen.graph(), frozen.inputs(), o.shapes());
      if (!o.shapes().isEmpty()) dev.tftrt.model.GraphChecks.checkAtShapes(graph, model.path() + " at the input shapes given");
      PassContext ctx = PassContext.of(tensors(frozen.inputs()), tensors(frozen.outputs()));
      Optimizer.Result optimized = Optimizer.defaultPipeline().run(graph, ctx);
      OnnxExporter exporter = new OnnxExporter(StandardConverters.registry()).opset(o.opset());
      for (TensorSpec in : frozen.inputs()) {
        long[] s = shapeFor(in, o.shapes());
        if (s != null) exporter.inputShape(in.tensor(), s);
      }
      long t0 = System.nanoTime();
      ModelProto onnx = exporter.export(optimized.graph(), tensors(frozen.inputs()), tensors(frozen.outputs()));
      long nanos = System.nanoTime() - t0;
      Verification.Report v = null;
      if (o.verify()) {
        try (OnnxRunner runner = new OnnxRunner(onnx.toByteArray(), o.out() == null ? "the ONNX model" : o.out().toString())) {
          TfRunner original = TfRunner.borrowing(model);
          v = Verification.run(original, runner, o.given() == null ? null : o.given().apply(original),
              o.shapes(), o.seed(), RTOL, ATOL);
        }
        if (v.skippedBecause() == null && !v.passed()) throw new VerificationFailedException("the ONNX model's", "TensorFlow's", "", v);
        // Only a written output needs the check; in memory the report says it was not made.
        if (o.out() != null) VerificationSkippedException.unlessAllowed(v, "the ONNX model", o.out(), o.allowUnverified());
      }
      if (o.out() != null) {
        checkTarget(o); // again: the run took a while
        AtomicFiles.write(o.out(), onnx::writeTo);
      }
      return new Report(onnx, frozen, optimized, v, nanos);
    }
  }

  private static void checkTarget(Options o) {
    OutputTargets.check(o.out(), OutputTargets.Kind.FILE, o.overwrite(),
        OutputTargets.modelInputs(o.load().path(), o.load().checkpoint()), null);
  }

  private static List<String> tensors(List<TensorSpec> specs) {
    return specs.stream().map(TensorSpec::tensor).toList();
  }

  private static long[] shapeFor(TensorSpec in, Map<String, long[]> shapes) {
    for (String k : List.of(in.key(), in.tensor(), dev.tftrt.model.TensorNames.node(in.tensor()))) {
      if (shapes.containsKey(k)) return shapes.get(k);
    }
    return null;
  }
}
