package dev.tftrt.precision;

import dev.tftrt.TftrtException;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.OperatorSetIdProto;
import dev.tftrt.precision.calibrate.TensorRanges;
import dev.tftrt.precision.int8.Int8Options;
import dev.tftrt.precision.int8.Int8Rewrite;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.tensor.HostTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The precision stage, between convert and build: rewrites one segment's FP32 ONNX so that the
 * precision TensorRT 11 builds is explicit in the graph. Callable alone; never changes its input.
 */
public final class PrecisionStage {
  private PrecisionStage() {}

  private static final Logger LOG = Logger.getLogger("dev.tftrt.precision");

  /** AutoCast's default: a value above this in the reference run keeps its nodes in FP32. */
  public static final double DATA_MAX = 512;
  /** Reductions over more values than this accumulate too much FP16 error: kept in FP32. */
  public static final long REDUCTION_LIMIT = 4096;

  /**
   * @param keepFp32 op types, ONNX node names, TensorFlow node names or value names kept in FP32
   * @param samples reference inputs of the segment (keyed by its ONNX input names); empty: seeded random ones
   */
  public record Options(Precision precision, Set<String> keepFp32, double dataMax, long reductionLimit,
      List<Map<String, HostTensor>> samples, long seed) {
    public static Options of(Precision p) {
      return new Options(p, Set.of(), DATA_MAX, REDUCTION_LIMIT, List.of(), 0);
    }

    public Options keepFp32(Set<String> names) {
      return new Options(precision, Set.copyOf(names), dataMax, reductionLimit, samples, seed);
    }

    public Options samples(List<Map<String, HostTensor>> s, long seed) {
      return new Options(precision, keepFp32, dataMax, reductionLimit, List.copyOf(s), seed);
    }
  }

  /** The rewritten model and the precision of each of its nodes. */
  public record Result(ModelProto model, PrecisionTable table) {}

  /**
   * One engine's precision as convert reports it: the rewritten model, its table, the estimated
   * accuracy against the FP32 segment on samples not used by the reference run (null for FP32,
   * or with {@code accuracyNote} saying why it could not be measured), and the nodes that
   * {@code --accuracy-budget} reverted to FP32.
   */
  public record Report(ModelProto model, PrecisionTable table, List<Accuracy.Output> accuracy,
      List<String> reverted, String accuracyNote, String against) {
    public Report(ModelProto model, PrecisionTable table, List<Accuracy.Output> accuracy, List<String> reverted,
        String accuracyNote) {
      this(model, table, accuracy, reverted, accuracyNote,
          "the engine's FP32 segment, FP16 emulated (every FP16 value rounded), on seeded random inputs");
    }
  }

  /** Seeds of the accuracy samples: apart from the reference run's (seed, seed + 1). */
  static final long ACCURACY_SEED_OFFSET = 1000;
  static final int ACCURACY_SAMPLES = 2;

  public static Report run(ModelProto fp32, Precision p, Set<String> keepFp32, double budget, long seed, String engine) {
    Options o = Options.of(p).keepFp32(keepFp32).samples(List.of(), seed);
    Result r = apply(fp32, o);
    if (p == Precision.FP32) return new Report(r.model(), r.table(), null, List.of(), null);
    List<Map<String, HostTensor>> samples = new ArrayList<>();
    try (OnnxRunner ref = new OnnxRunner(fp32.toByteArray(), "the FP32 segment of " + engine)) {
      for (int i = 0; i < ACCURACY_SAMPLES; i++) samples.add(ref.randomInputs(Map.of(), seed + ACCURACY_SEED_OFFSET + i));
    }
    List<Accuracy.Output> acc;
    try {
      acc = estimate(fp32, r.model(), samples);
    } catch (TftrtException e) {
      return new Report(r.model(), r.table(), null, List.of(), "not measured: " + e.getMessage());
    }
    List<String> reverted = new ArrayList<>();
    Set<String> keep = new java.util.HashSet<>(keepFp32);
    while (!Double.isNaN(budget) && Accuracy.minCosine(acc) < budget) {
      List<String> worst = Sensitivity.worst(fp32, r, samples);
      if (worst.isEmpty()) break;
      reverted.addAll(worst);
      keep.addAll(worst);
      r = apply(fp32, o.keepFp32(keep));
      acc = estimate(fp32, r.model(), samples);
    }
    return new Report(r.model(), r.table(), acc, reverted, null);
  }

  /**
   * INT8: Q/DQ with the calibrated ranges, then the rest in FP16 ({@code rest} fp16) or left in
   * FP32. Its accuracy against the FP32 segment is measured on {@code samples} (the segment's
   * inputs for data calibration did not see; {@code samplesAre} says what they are), or on two
   * seeded random inputs when there are none. Q/DQ are real ops in ONNX Runtime, so the INT8 part
   * is measured as it computes; an FP16 rest is emulated as for FP16.
   */
  public static Report int8(ModelProto fp32, TensorRanges ranges, Int8Options.Rest rest, Set<String> keepFp32,
      List<Map<String, HostTensor>> samples, String samplesAre, long seed, String engine) {
    return int8(fp32, ranges, rest, keepFp32, Double.NaN, samples, samplesAre, seed, engine);
  }

  /**
   * As above, with {@code --accuracy-budget}: while an output's cosine is under {@code budget},
   * the nodes that add the most error ({@link Sensitivity}) go up one precision (int8 to the
   * rest's precision, fp16 to fp32), each round measured again on the same samples.
   */
  public static Report int8(ModelProto fp32, TensorRanges ranges, Int8Options.Rest rest, Set<String> keepFp32,
      double budget, List<Map<String, HostTensor>> samples, String samplesAre, long seed, String engine) {
    List<Map<String, HostTensor>> measured = new ArrayList<>(samples);
    String reference = "the engine's FP32 segment" + (rest == Int8Options.Rest.FP16 ? ", FP16 rest emulated" : "");
    String against = reference + ", on " + samplesAre;
    if (measured.isEmpty()) {
      try (OnnxRunner ref = new OnnxRunner(fp32.toByteArray(), "the FP32 segment of " + engine)) {
        for (int i = 0; i < ACCURACY_SAMPLES; i++) measured.add(ref.randomInputs(Map.of(), seed + ACCURACY_SEED_OFFSET + i));
      }
      against = reference + ", on " + ACCURACY_SAMPLES + " seeded random inputs (no held-out data)";
    }
    Set<String> unquantized = new java.util.LinkedHashSet<>();
    Set<String> keep = new java.util.LinkedHashSet<>(keepFp32);
    Result r = int8Result(fp32, ranges, rest, keep, unquantized, samples, seed);
    List<Accuracy.Output> acc;
    try {
      acc = estimate(fp32, r.model(), measured);
    } catch (TftrtException e) {
      return new Report(r.model(), r.table(), null, List.of(), "not measured: " + e.getMessage(), against);
    }
    List<String> reverted = new ArrayList<>();
    while (!Double.isNaN(budget) && Accuracy.minCosine(acc) < budget) {
      List<String> worst = Sensitivity.worst(fp32, r, measured);
      if (worst.isEmpty()) break;
      for (String w : worst) {
        boolean wasInt8 = r.table().row(w).precision().equals("int8");
        (wasInt8 ? unquantized : keep).add(w);
        reverted.add(w + (wasInt8 ? " (int8 to " + rest.label() + ")" : " (fp16 to fp32)"));
      }
      r = int8Result(fp32, ranges, rest, keep, unquantized, samples, seed);
      acc = estimate(fp32, r.model(), measured);
    }
    return new Report(r.model(), r.table(), acc, reverted, null, against);
  }

  private static Result int8Result(ModelProto fp32, TensorRanges ranges, Int8Options.Rest rest, Set<String> keepFp32,
      Set<String> unquantized, List<Map<String, HostTensor>> samples, long seed) {
    ModelProto q = Int8Rewrite.apply(fp32, ranges, unquantized);
    if (rest == Int8Options.Rest.FP16) {
      // the reference run that finds FP16's range limits runs on real data when there is some
      return apply(q, Options.of(Precision.FP16).keepFp32(keepFp32).samples(samples, seed));
    }
    return new Result(q, int8Table(q));
  }

  /** The table of a Q/DQ model whose rest stays FP32: Q/DQ, the ops they feed (int8), the rest. */
  static PrecisionTable int8Table(ModelProto q) {
    Map<String, String> producer = new java.util.HashMap<>();
    for (var n : q.getGraph().getNodeList()) for (String o : n.getOutputList()) producer.put(o, n.getOpType());
    List<PrecisionTable.Row> rows = new ArrayList<>();
    for (PrecisionTable.Row row : PrecisionTable.fp32(q).rows()) {
      var n = q.getGraph().getNodeList().stream().filter(x -> x.getName().equals(row.node())).findFirst().orElseThrow();
      if (OpRules.QDQ.contains(n.getOpType())) {
        rows.add(row.with("q/dq", "Quantize/Dequantize arithmetic and scales stay FP32"));
      } else if (OpRules.QUANTIZABLE.contains(n.getOpType()) && n.getInputCount() > 0
          && "DequantizeLinear".equals(producer.get(n.getInput(0)))) {
        rows.add(row.with("int8", "fed by DequantizeLinear: TensorRT fuses it into an INT8 kernel"));
      } else {
        rows.add(row.with(row.precision(), row.precision().equals("fp32") ? "--int8-rest fp32" : row.reason()));
      }
    }
    return new PrecisionTable(rows, 0, 0, "");
  }

  /** The FP16 model's estimated figures: its emulation (every FP16 value rounded) against FP32. */
  static List<Accuracy.Output> estimate(ModelProto fp32, ModelProto reduced, List<Map<String, HostTensor>> samples) {
    try (OnnxRunner a = new OnnxRunner(fp32.toByteArray(), "the FP32 segment");
        OnnxRunner b = new OnnxRunner(Fp16Emulation.of(reduced).toByteArray(), "the FP16 segment's emulation")) {
      return Accuracy.measure(a, b, samples);
    }
  }

  public static Result apply(ModelProto segment, Options o) {
    switch (o.precision()) {
      case FP32:
        return new Result(segment, PrecisionTable.fp32(segment));
      case FP16:
        return fp16(segment, o);
      default:
        throw new TftrtException("--precision int8 needs calibrated ranges: use PrecisionStage.int8 with the"
            + " ranges Int8Rewrite.calibrate measures (or convert --precision int8 --calibration-data PATH).");
    }
  }

  private static Result fp16(ModelProto segment, Options o) {
    long opset = segment.getOpsetImportList().stream().filter(s -> s.getDomain().isEmpty())
        .mapToLong(OperatorSetIdProto::getVersion).max().orElse(0);
    if (opset < 13) {
      throw new TftrtException("--precision fp16 needs ONNX opset 13 or newer (FP16 in every op's types);"
          + " this segment is opset " + opset + ": give --opset 13 or more.");
    }
    List<Map<String, HostTensor>> samples = new ArrayList<>(o.samples());
    String reference;
    if (samples.isEmpty()) {
      try (OnnxRunner r = new OnnxRunner(segment.toByteArray(), "the FP32 segment")) {
        for (int i = 0; i < 2; i++) samples.add(r.randomInputs(Map.of(), o.seed() + i));
      }
      reference = "2 seeded random samples (seed " + o.seed() + ")";
    } else {
      reference = samples.size() + " given sample(s)";
    }
    Map<String, ReferenceRun.Stat> stats;
    try {
      stats = ReferenceRun.measure(segment, samples);
    } catch (TftrtException e) {
      // Without magnitudes the range rule cannot apply: say so in the table, keep reductions FP32.
      LOG.info("reference run failed: " + e.getMessage());
      stats = Map.of();
      reference = "not run (" + e.getMessage() + "): magnitudes unknown";
    }
    return new Fp16Rewrite(segment.getGraph(), o, stats, reference).apply(segment);
  }
}
