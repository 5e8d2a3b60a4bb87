package dev.tftrt.pipeline;

import dev.tftrt.convert.ops.StandardConverters;
import dev.tftrt.TftrtException;
import dev.tftrt.convert.ConverterRegistry;
import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.graph.TensorInfo;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.Sidecar;
import dev.tftrt.model.TensorNames;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.precision.Accuracy;
import dev.tftrt.precision.Precision;
import dev.tftrt.precision.PrecisionStage;
import dev.tftrt.precision.calibrate.CalibrationCache;
import dev.tftrt.precision.calibrate.CalibrationData;
import dev.tftrt.precision.calibrate.TensorRanges;
import dev.tftrt.precision.int8.Int8Options;
import dev.tftrt.runtime.ConvertedRunner;
import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.runtime.TfRunner;
import dev.tftrt.runtime.TftrtModel;
import dev.tftrt.runtime.Verification;
import dev.tftrt.runtime.VerificationFailedException;
import dev.tftrt.runtime.VerificationSkippedException;
import dev.tftrt.runtime.backend.Backend;
import dev.tftrt.precision.Precision;
import dev.tftrt.runtime.engine.EngineNode;
import dev.tftrt.segment.Segment;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.model.ConvertedModel;
import dev.tftrt.model.OwnFolder;
import dev.tftrt.model.Payloads;
import dev.tftrt.splice.Splicer;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.util.AtomicFiles;
import dev.tftrt.util.OutputTargets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * What `tftrt convert` does, callable from Java: freeze, optimize, segment, convert each
 * segment to ONNX, splice one engine node per segment into the graph, write the converted
 * folder, and check it against the original on the same inputs before it is put in place.
 */
public final class ConvertJob {
  private ConvertJob() {}

  /** Engines change float rounding (other kernels, other summation orders), not results. */
  public static final double RTOL = 1e-3;
  public static final double ATOL = 1e-4;
  /** FP16 storage rounds each value to 2^-11 relative; through a network that grows to about 1e-2. */
  public static final double RTOL_FP16 = 2e-2;
  public static final double ATOL_FP16 = 2e-2;

  /**
   * What to convert and how; made with {@link #builder(LoadOptions, Path)}. The check feeds the
   * original what {@code given} returns for it (by input name; the rest random, seeded; a
   * function, since values such as the CLI's {@code --input x=0.5} depend on its input dtypes;
   * null: all random). A check that cannot be made (the original fails on generated inputs
   * or is not deterministic) writes nothing unless {@code allowUnverified}. {@code fallback}
   * "tensorflow" also stores each engine's original segment so the tensorflow backend can run it
   * (implied by backend tensorflow); {@code keepFrozen} also writes the frozen original
   * (frozen.pb/.json) into the folder.
   */
  public record Options(LoadOptions load, Path out, Map<String, long[]> shapes,
      Segmenter.Options segments, Backend backend, Precision precision, int opset, boolean verify,
      boolean allowUnverified, long seed, Function<ModelRunner, Map<String, HostTensor>> given,
      boolean overwrite, String fallback,
      boolean keepFrozen, FloatOptions floats, Int8Options int8, Iterable<Map<String, HostTensor>> calibrationSamples) {
    public Options {
      java.util.Objects.requireNonNull(load, "load");
      java.util.Objects.requireNonNull(backend, "backend");
      java.util.Objects.requireNonNull(precision, "precision");
      shapes = Map.copyOf(shapes);
      if (floats == null) floats = FloatOptions.NONE;
    }

    /** Whether engines keep their original segment: asked for, or needed by the backend chosen. */
    public boolean storesSegments() {
      return "tensorflow".equals(fallback) || backend == Backend.TENSORFLOW;
    }

    /** Defaults: engines on auto, fp32, opset 17, verified on seed 0, no overwrite. */
    public static Options of(LoadOptions load, Path out) {
      return builder(load, out).build();
    }

    /** The same, replacing an existing converted folder (never anything else; see {@link OutputTargets}). */
    public Options withOverwrite(boolean yes) {
      return toBuilder().overwrite(yes).build();
    }

    /** The same, storing each engine's original segment ("tensorflow") or not ("none"). */
    public Options withFallback(String v) {
      return toBuilder().fallback(v).build();
    }

    /** The same, also writing the frozen original (frozen.pb and frozen.json) into the folder. */
    public Options withKeepFrozen(boolean yes) {
      return toBuilder().keepFrozen(yes).build();
    }

    /** The same, with the FP16 stage's options (ops kept in FP32, the accuracy budget). */
    public Options withFloats(FloatOptions v) {
      return toBuilder().floats(v).build();
    }

    public Builder toBuilder() {
      Builder b = new Builder(load, out);
      b.shapes = shapes;
      b.segments = segments;
      b.backend = backend;
      b.precision = precision;
      b.opset = opset;
      b.verify = verify;
      b.allowUnverified = allowUnverified;
      b.seed = seed;
      b.given = given;
      b.overwrite = overwrite;
      b.fallback = fallback;
      b.keepFrozen = keepFrozen;
      b.floats = floats;
      b.int8 = int8;
      b.calibrationSamples = calibrationSamples;
      return b;
    }

    /** What the check feeds the original (empty: all random). */
    Map<String, HostTensor> givenInputs(ModelRunner original) {
      return given != null ? given.apply(original) : Map.of();
    }
  }

  public static Builder builder(LoadOptions load, Path out) {
    return new Builder(load, out);
  }

  /** Builds {@link Options}; every setting has a default. */
  public static final class Builder extends JobBuilder<Builder> {
    private Segmenter.Options segments = Segmenter.Options.defaults();
    private Backend backend = Backend.AUTO;
    private Precision precision = Precision.FP32;
    private int opset = OnnxExporter.DEFAULT_OPSET;
    private String fallback = "none";
    private boolean keepFrozen;
    private FloatOptions floats = FloatOptions.NONE;
    private Int8Options int8;
    private Iterable<Map<String, HostTensor>> calibrationSamples;

    private Builder(LoadOptions load, Path out) {
      super(load, out);
    }

    public Builder segments(Segmenter.Options v) {
      segments = v;
      return this;
    }

    /** What every engine node asks for at load (its {@code backend} attribute). */
    public Builder backend(Backend v) {
      backend = v;
      return this;
    }

    public Builder precision(Precision v) {
      precision = v;
      return this;
    }

    public Builder opset(int v) {
      opset = v;
      return this;
    }

    /** "tensorflow": also store each engine's original segment, for the tensorflow backend; "none". */
    public Builder fallback(String v) {
      fallback = v;
      return this;
    }

    /** Also write the frozen original (frozen.pb and frozen.json) into the folder. */
    public Builder keepFrozen(boolean v) {
      keepFrozen = v;
      return this;
    }

    /** The FP16 stage's options: ops or nodes kept in FP32, the accuracy budget. */
    public Builder floats(FloatOptions v) {
      floats = v;
      return this;
    }

    /**
     * With {@code --precision int8}: the calibrator, the data or cache, preprocessing and the
     * precision of the rest ({@link Int8Options#parse} reads the CLI's strings).
     */
    public Builder int8(Int8Options v) {
      int8 = v;
      return this;
    }

    /**
     * Calibration samples made by the caller, for the model's inputs (by signature or tensor
     * name, each with a batch axis first); used instead of {@link Int8Options#calibrationData}.
     * Iterated once; the last rows are held out to measure accuracy.
     */
    public Builder calibrationSamples(Iterable<Map<String, HostTensor>> v) {
      calibrationSamples = v;
      return this;
    }

    public Options build() {
      return new Options(load, out, shapes, segments, backend, precision, opset, verify, allowUnverified,
          seed, given, overwrite, fallback, keepFrozen, floats, int8, calibrationSamples);
    }
  }

  /**
   * What a reduced precision may cost: nodes kept in FP32 by name or op ({@code --keep-fp32}),
   * and the lowest cosine each engine output must keep against FP32 ({@code --accuracy-budget};
   * NaN: none), reached by reverting the most sensitive nodes to FP32.
   */
  public record FloatOptions(Set<String> keepFp32, double accuracyBudget) {
    public static final FloatOptions NONE = new FloatOptions(Set.of(), Double.NaN);
  }

  private static void checkTarget(Options o) {
    OutputTargets.check(o.out(), OutputTargets.Kind.FOLDER, o.overwrite(),
        OutputTargets.modelInputs(o.load().path(), o.load().checkpoint()),
        new OutputTargets.Own(OwnFolder::isOwn, "a converted model"));
  }

  /**
   * One engine as built: its node (no payloads inside), ONNX model, the transposes left in it,
   * its original segment as a graph (null unless the tensorflow fallback was asked for), and
   * what the precision stage did to it.
   */
  public record Engine(Segment segment, EngineNode node, ModelProto onnx, int transposes, GraphDef tfSegment,
      PrecisionStage.Report precision) {}

  public record Report(Plan plan, List<Engine> engines, GraphDef converted, List<TensorSpec> inputs,
      List<TensorSpec> outputs, Verification.Report verification, Map<String, String> backends,
      long millis, List<Accuracy.Output> accuracy, Int8Calibrated calibration) {}

  public static Report run(Options o) {
    if (o.fallback() == null || !List.of("none", "tensorflow").contains(o.fallback())) {
      throw new TftrtException("--fallback " + o.fallback() + " is not one of none, tensorflow.");
    }
    Precision precision = o.precision();
    // before the work: data that cannot be opened, or a missing cache, costs nothing
    Int8Inputs int8 = precision == Precision.INT8 ? Int8Inputs.of(o) : null;
    checkTarget(o); // before the work, so a refusal costs nothing
    if (int8 != null) int8.checkCacheTarget(o);
    long t0 = System.nanoTime();
    try (TfModel model = TfModel.load(o.load())) {
      // On a CPU backend an engine inside a while loop must pay for its call (Segmenter.Options).
      Segmenter.Options segments = o.segments().target() != Segmenter.Target.BY_BACKEND ? o.segments()
          : o.segments().withTarget(dev.tftrt.runtime.backend.Backends.runsOnCpu(o.backend())
              ? Segmenter.Target.CPU : Segmenter.Target.GPU);
      Plan plan = Plan.make(model, o.shapes(), segments, StandardConverters.registry(), o.opset());
      GraphDef g = plan.graph().graphDef();
      Set<String> taken = new HashSet<>();
      for (NodeDef n : g.getNodeList()) taken.add(n.getName());

      OnnxExporter exporter = new OnnxExporter(StandardConverters.registry()).opset(o.opset());
      List<SegmentCalibration.Target> fp32 = new ArrayList<>();
      for (Segment s : plan.segments().segments()) {
        fp32.add(new SegmentCalibration.Target(unique(s.name(), taken), exporter.export(plan.graph(), s.inputs(), s.outputs())));
      }
      Int8Calibrated calibrated = int8 == null ? null : int8.calibrate(plan, o.shapes(), fp32);

      List<Engine> engines = new ArrayList<>();
      List<Splicer.Replacement> replacements = new ArrayList<>();
      List<Segment> segs = plan.segments().segments();
      for (int i = 0; i < segs.size(); i++) {
        Engine e = build(plan, segs.get(i), fp32.get(i), o, calibrated, i);
        engines.add(e);
        replacements.add(new Splicer.Replacement(segs.get(i), e.node().toNodeDef()));
      }
      Splicer.Result spliced = Splicer.splice(g, replacements);
      List<TensorSpec> inputs = plan.frozen().inputs();
      List<TensorSpec> outputs = new ArrayList<>();
      for (TensorSpec s : plan.frozen().outputs()) {
        outputs.add(new TensorSpec(s.key(), spliced.resolve(s.tensor()), s.dtype(), s.shape()));
      }
      String signature = model.signature() != null ? model.signature() : "serving_default";

      Verification.Report[] verification = {null};
      List<List<Accuracy.Output>> accuracy = new ArrayList<>();
      double rtol = precision == Precision.FP32 ? RTOL : RTOL_FP16;
      double atol = precision == Precision.FP32 ? ATOL : ATOL_FP16;
      // INT8 is checked and measured on the held-out rows of the calibration data when there are any
      List<Map<String, HostTensor>> heldOut = calibrated == null ? List.of() : calibrated.heldOut();
      Map<String, String> backends = new LinkedHashMap<>();
      checkTarget(o); // again: planning took a while
      AtomicFiles.writeFolder(o.out(), dir -> {
        write(dir, model, plan, engines, spliced.graph(), signature, inputs, outputs, o.keepFrozen());
        if (o.verify()) {
          try (ConvertedRunner converted = new ConvertedRunner(
              TftrtModel.load(dir, TftrtModel.Options.defaults().withBackend(o.backend()),
              "the model converted for " + o.out()))) {
            backends.putAll(converted.model().backends());
            TfRunner original = TfRunner.borrowing(model);
            Map<String, HostTensor> given = heldOut.isEmpty() ? o.givenInputs(original) : heldOut.get(0);
            if (precision == Precision.INT8 && given.isEmpty() && !engines.isEmpty()) {
              // ranges fit the calibration data: random inputs beyond them say nothing of the conversion
              // (with no engine nothing is INT8, and random inputs check the conversion as for FP32)
              verification[0] = new Verification.Report(List.of(), "INT8 ranges fit the calibration data, not random"
                  + " inputs, and " + noHeldOut(calibrated), Map.of());
            } else {
              verification[0] = Verification.run(original, converted, given, o.shapes(), o.seed(), rtol, atol);
            }
            if (precision != Precision.FP32 && verification[0].skippedBecause() == null) {
              // The decisions (top-1, per-pixel labels) on the same inputs, as compare measures them.
              accuracy.add(Accuracy.measure(original, converted, heldOut.isEmpty() ? List.of(verification[0].feeds()) : heldOut));
              verification[0] = PrecisionReport.judgeDecisions(verification[0], accuracy.get(0));
              if (precision == Precision.INT8) verification[0] = PrecisionReport.judgeInt8(verification[0]);
            }
          }
          if (verification[0].skippedBecause() == null && !verification[0].passed()) {
            throw new VerificationFailedException("the converted model's", "the original's", "; nothing was written", verification[0]);
          }
          VerificationSkippedException.unlessAllowed(verification[0], "the converted model", o.out(), o.allowUnverified());
        }
        List<Accuracy.Output> measured = accuracy.isEmpty() ? null : accuracy.get(0);
        String modelAgainst = "the original model in TensorFlow (FP32), on "
            + (heldOut.isEmpty() ? "the verification inputs" : calibrated.heldOutText());
        Map<String, Object> report = report(o, plan, engines, verification[0], backends, rtol, atol);
        PrecisionReport.addJson(report, engines, measured, modelAgainst);
        if (calibrated != null) report.put("calibration", calibrated.toJson());
        Files.write(dir.resolve("report.json"), ConvertedModel.json(report));
        Files.writeString(dir.resolve("report.md"), markdown(o, plan, engines, verification[0], backends, rtol, atol)
            + (calibrated == null ? "" : calibrated.markdown())
            + PrecisionReport.markdown(engines, measured, modelAgainst));
        // last: a cache is written only with the conversion it came from
        if (calibrated != null && calibrated.writeCache() != null) {
          CalibrationCache.write(calibrated.writeCache(), calibrated.ranges());
        }
      });
      return new Report(plan, engines, spliced.graph(), inputs, outputs, verification[0], backends,
          (System.nanoTime() - t0) / 1_000_000, accuracy.isEmpty() ? null : accuracy.get(0), calibrated);
    }
  }

  private static Engine build(Plan plan, Segment s, SegmentCalibration.Target t, Options o, Int8Calibrated cal, int i) {
    String name = t.engine();
    ModelProto fp32 = t.fp32();
    PrecisionStage.Report precision = cal == null
        ? PrecisionStage.run(fp32, o.precision(), o.floats().keepFp32(), o.floats().accuracyBudget(), o.seed(), name)
        : PrecisionStage.int8(fp32, cal.ranges().get(i), cal.options().rest(), o.floats().keepFp32(),
            o.floats().accuracyBudget(), cal.heldOutOf(i), cal.heldOutText(), o.seed(), name);
    ModelProto onnx = precision.model();
    List<DataType> tin = new ArrayList<>();
    List<DataType> tout = new ArrayList<>();
    EngineNode.Builder b = EngineNode.builder(name);
    for (String in : s.inputs()) {
      DataType dt = DTypes.base(plan.graph().info(in).dtype());
      tin.add(dt);
      b.input(TensorNames.edge(TensorNames.node(in), TensorNames.index(in)), dt);
    }
    for (String out : s.outputs()) {
      TensorInfo info = plan.graph().info(out);
      DataType dt = DTypes.base(info.dtype());
      tout.add(dt);
      if (info.hasRank()) b.output(dt, info.dims());
      else b.outputUnknownRank(dt);
    }
    // The payloads go into files of their own (format 2): the node carries none.
    b.precision(o.precision().label()).backend(o.backend().label());
    GraphDef segment = o.storesSegments() ? Splicer.segmentGraph(plan.graph().graphDef(), s, tin, tout) : null;
    return new Engine(s, b.build(), onnx, OnnxExporter.countTransposes(onnx), segment, precision);
  }

  private static String unique(String name, Set<String> taken) {
    String n = name;
    for (int i = 1; taken.contains(n); i++) n = name + "_" + i;
    taken.add(n);
    return n;
  }

  private static void write(Path dir, TfModel model, Plan plan, List<Engine> engines, GraphDef converted,
      String signature, List<TensorSpec> inputs, List<TensorSpec> outputs, boolean keepFrozen)
      throws java.io.IOException {
    // One graph file: the SavedModel is what TensorFlow, run and compare all read.
    Files.write(dir.resolve("saved_model.pb"),
        ConvertedModel.savedModel(converted, signature, inputs, outputs).toByteArray());
    if (keepFrozen) {
      Files.write(dir.resolve("frozen.pb"), plan.frozen().graph().toByteArray());
      Files.write(dir.resolve("frozen.json"), Sidecar.of(model.path().toString(), model.format().name(),
          model.signature(), model.tags(), plan.frozen().inputs(), plan.frozen().outputs(),
          plan.frozen().stats()).toBytes());
    }
    List<ConvertedModel.Engine> listed = new ArrayList<>();
    for (Engine e : engines) {
      List<ConvertedModel.Payload> payloads = new ArrayList<>();
      payloads.add(Payloads.store(dir, Payloads.ONNX, e.onnx().toByteArray(), e.node().precision(), Map.of()));
      if (e.tfSegment() != null) {
        payloads.add(Payloads.store(dir, Payloads.TF_SEGMENT, e.tfSegment().toByteArray(), "fp32", Map.of()));
      }
      listed.add(new ConvertedModel.Engine(e.node().name(), e.segment().size(), e.segment().inputs(),
          e.segment().outputs(), e.node().backend(), e.node().precision(), payloads));
    }
    Files.write(dir.resolve(ConvertedModel.MANIFEST), ConvertedModel.manifestBytes(new ConvertedModel.Manifest(
        ConvertedModel.FORMAT, ConvertedModel.VERSION, model.path().toString(), signature,
        inputs.stream().map(Sidecar.Tensor::of).toList(), outputs.stream().map(Sidecar.Tensor::of).toList(),
        listed)));
  }

  private static Map<String, Object> report(Options o, Plan plan, List<Engine> engines,
      Verification.Report v, Map<String, String> backends, double rtol, double atol) {
    Map<String, Object> r = PlanReport.of(o.load().path().toString(), plan);
    r.put("backend", o.backend().label());
    r.put("precision", o.precision().label());
    List<Map<String, Object>> list = new ArrayList<>();
    for (Engine e : engines) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("engine", e.node().name());
      m.put("onnxNodes", e.onnx().getGraph().getNodeCount());
      m.put("onnxBytes", e.onnx().getSerializedSize());
      m.put("transposes", e.transposes());
      m.put("backend", backends.getOrDefault(e.node().name(), o.backend().label()));
      list.add(m);
    }
    r.put("engines", list);
    if (v != null) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("skippedBecause", v.skippedBecause());
      m.put("passed", v.passed());
      m.put("rtol", rtol);
      m.put("atol", atol);
      List<Map<String, Object>> diffs = new ArrayList<>();
      for (var d : v.diffs()) {
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("output", d.name());
        x.put("maxAbs", d.maxAbs());
        x.put("maxRel", d.maxRel());
        x.put("cosine", d.cosine());
        x.put("identical", d.identical());
        diffs.add(x);
      }
      m.put("outputs", diffs);
      r.put("verification", m);
    }
    return r;
  }

  private static String markdown(Options o, Plan plan, List<Engine> engines, Verification.Report v,
      Map<String, String> backends, double rtol, double atol) {
    StringBuilder b = new StringBuilder(PlanReport.markdown(o.load().path().toString(), plan));
    b.append("\n## Engines as built\n\n| engine | ops | ONNX nodes | transposes | backend |\n|---|---|---|---|---|\n");
    for (Engine e : engines) {
      b.append("| ").append(e.node().name()).append(" | ").append(e.segment().size()).append(" | ")
          .append(e.onnx().getGraph().getNodeCount()).append(" | ").append(e.transposes()).append(" | ")
          .append(backends.getOrDefault(e.node().name(), o.backend().label())).append(" |\n");
    }
    if (v != null) {
      b.append("\n## Verification against the original\n\n");
      if (rtol != RTOL) b.append(String.format("Tolerance (reduced precision): rtol %.3g, atol %.3g.%n%n", rtol, atol));
      if (v.skippedBecause() != null) {
        b.append("Not run: ").append(v.skippedBecause()).append(".\n");
      } else {
        b.append("| output | max abs err | max rel err | cosine |\n|---|---|---|---|\n");
        for (var d : v.diffs()) {
          b.append(String.format("| %s | %.3g | %.3g | %.6f |%n", d.name(), d.maxAbs(), d.maxRel(), d.cosine()));
        }
      }
    }
    return b.toString();
  }

  /** Why there are no held-out rows to check INT8 on, as the end of a sentence. */
  static String noHeldOut(Int8Calibrated calibrated) {
    if (calibrated != null && calibrated.calibratedRows() > 0) {
      return "the calibration data's " + calibrated.calibratedRows() + " rows are too few to hold any out for the"
          + " check (a fifth of them, in whole batches): give more rows, or --input";
    }
    return "no held-out data was given (give --calibration-data with the cache, or --input)";
  }
}
