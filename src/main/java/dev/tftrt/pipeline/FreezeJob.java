package dev.tftrt.pipeline;

import dev.tftrt.freeze.FreezeResult;
import dev.tftrt.freeze.Freezer;

import dev.tftrt.TftrtException;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.Sidecar;
import dev.tftrt.model.TfModel;
import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.runtime.TfRunner;
import dev.tftrt.tensor.HostTensor;
import java.util.function.Function;
import dev.tftrt.runtime.Verification;
import dev.tftrt.runtime.VerificationFailedException;
import dev.tftrt.runtime.VerificationSkippedException;
import dev.tftrt.util.AtomicFiles;
import dev.tftrt.util.OutputTargets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Load, freeze, verify, write: what `tftrt freeze` does, callable from Java. */
public final class FreezeJob {
  private FreezeJob() {}

  /** Freezing verification allows float rounding only; normally outputs are bit-identical. */
  public static final double RTOL = 1e-5;
  public static final double ATOL = 1e-6;

  /**
   * What to freeze and where to write it (null: not written); made with {@link #builder} or the
   * short constructors. Verification feeds the inputs that {@code given} returns for the original
   * model (null: none) and random values for the rest. A check that cannot be made writes
   * nothing unless {@code allowUnverified}.
   */
  public record Options(LoadOptions load, Path out, boolean verify, long seed, Map<String, long[]> shapes,
      Function<ModelRunner, Map<String, HostTensor>> given, boolean overwrite, boolean allowUnverified) {
    public Options(LoadOptions load, Path out, boolean verify, long seed, Map<String, long[]> shapes,
        Function<ModelRunner, Map<String, HostTensor>> given) {
      this(load, out, verify, seed, shapes, given, false, false);
    }

    public Options(LoadOptions load, Path out, boolean verify, long seed, Map<String, long[]> shapes) {
      this(load, out, verify, seed, shapes, null, false, false);
    }

    /** The same, replacing an existing output (never an input; see {@link OutputTargets}). */
    public Options withOverwrite(boolean yes) {
      return new Options(load, out, verify, seed, shapes, given, yes, allowUnverified);
    }

    /** The same, writing even when the check could not be made (the CLI's --allow-unverified). */
    public Options withAllowUnverified(boolean yes) {
      return new Options(load, out, verify, seed, shapes, given, overwrite, yes);
    }
  }

  public static Builder builder(LoadOptions load, Path out) {
    return new Builder(load, out);
  }

  /** Builds {@link Options}: verified on seed 0, no shapes, nothing given, no overwrite. */
  public static final class Builder extends JobBuilder<Builder> {
    private Builder(LoadOptions load, Path out) {
      super(load, out);
    }

    public Options build() {
      return new Options(load, out, verify, seed, shapes, given, overwrite, allowUnverified);
    }
  }

  public record Report(FreezeResult result, Sidecar sidecar, Verification.Report verification, Path out) {}

  public static Report run(Options o) {
    if (o.out() != null) checkTargets(o); // before the work, so a refusal costs nothing
    // Grappler off on both sides: the check is about freezing, and then the outputs are bit-identical.
    try (TfModel model = TfModel.load(o.load(), TfModel.exactConfig())) {
      FreezeResult r = Freezer.freeze(model);
      Sidecar side = Sidecar.of(model.path().toString(), model.format().name(), model.signature(),
          model.tags(), r.inputs(), r.outputs(), r.stats());
      Verification.Report v = null;
      if (o.verify()) {
        try (TfRunner frozen = new TfRunner(TfModel.fromGraphDef(r.graph(),
            o.out() == null ? "the frozen graph" : o.out().toString(), r.inputs(), r.outputs(),
            TfModel.exactConfig()))) {
          TfRunner original = TfRunner.borrowing(model);
          v = Verification.run(original, frozen, o.given() == null ? null : o.given().apply(original),
              o.shapes(), o.seed(), RTOL, ATOL);
        }
        if (v.skippedBecause() == null && !v.passed()) {
          throw new VerificationFailedException("the frozen graph's", "the original's", "", v);
        }
        // Only a written output needs the check; in memory the report says it was not made.
        if (o.out() != null) VerificationSkippedException.unlessAllowed(v, "the frozen graph", o.out(), o.allowUnverified());
      }
      if (o.out() != null) {
        checkTargets(o); // again: the run took a while
        write(r, side, o.out());
      }
      return new Report(r, side, v, o.out());
    }
  }

  /** OUT.pb and its OUT.json: new files, or replaced with --overwrite; never an input. */
  private static void checkTargets(Options o) {
    if (Sidecar.pathFor(o.out()).getFileName().equals(o.out().getFileName())) {
      throw new TftrtException("cannot write " + o.out() + ": it is where its own .json sidecar would go;"
          + " name the frozen graph NAME.pb.");
    }
    var inputs = OutputTargets.modelInputs(o.load().path(), o.load().checkpoint());
    OutputTargets.check(o.out(), OutputTargets.Kind.FILE, o.overwrite(), inputs, null);
    OutputTargets.check(Sidecar.pathFor(o.out()), OutputTargets.Kind.FILE, o.overwrite(), inputs, null);
  }

  /** The graph and its sidecar, both or neither. */
  public static void write(FreezeResult r, Sidecar side, Path out) {
    Map<Path, AtomicFiles.Writer> files = new LinkedHashMap<>();
    files.put(out, r.graph()::writeTo);
    files.put(Sidecar.pathFor(out), s -> s.write(side.toBytes()));
    AtomicFiles.write(files);
  }
}
