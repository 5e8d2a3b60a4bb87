package dev.tftrt.pipeline;

import dev.tftrt.precision.Accuracy;
import dev.tftrt.runtime.Comparison;
import dev.tftrt.runtime.Verification;
import dev.tftrt.precision.PrecisionStage;
import dev.tftrt.precision.PrecisionTable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The precision sections of a conversion's report: each engine's precision per op, its estimated
 * accuracy against its FP32 segment, what --accuracy-budget reverted, and the converted model's
 * accuracy against the original per output. What `inspect OUTDIR` shows.
 */
final class PrecisionReport {
  private PrecisionReport() {}

  /** Integer outputs (labels) of a reduced-precision model must agree this often with the original. */
  static final double MIN_AGREEMENT = 0.95;

  /**
   * A label output (argmax, per-pixel class) of a reduced-precision model cannot match to a
   * tolerance: one flipped near-tie is an error of 1. It is checked by how often it agrees.
   */
  static Verification.Report judgeDecisions(Verification.Report v, List<Accuracy.Output> acc) {
    List<Comparison.Diff> diffs = new ArrayList<>();
    for (Comparison.Diff d : v.diffs()) {
      Accuracy.Output a = acc.stream().filter(x -> x.name().equals(d.name())).findFirst().orElse(null);
      boolean labels = a != null && "values".equals(a.agreementOf()) && !Double.isNaN(a.agreement());
      if (labels && !d.withinTolerance() && "outside tolerance".equals(d.problem())) {
        boolean ok = a.agreement() >= MIN_AGREEMENT;
        diffs.add(new Comparison.Diff(d.name(), d.maxAbs(), d.maxRel(), d.cosine(), d.identical(), ok,
            ok ? null : String.format("labels agree in %.2f%% of places (at least %.0f%% wanted)", 100 * a.agreement(), 100 * MIN_AGREEMENT),
            d.agreeingNonFinite(), d.referenceNaN(), d.referenceInf()));
      } else {
        diffs.add(d);
      }
    }
    return new Verification.Report(diffs, v.skippedBecause(), v.feeds());
  }

  /** The lowest cosine an INT8 model's float output may have against the original. */
  static final double INT8_MIN_COSINE = 0.99;

  /**
   * INT8 changes values by up to a quantization step, far beyond a float tolerance: a float
   * output out of tolerance passes when its cosine to the original is at least {@value
   * #INT8_MIN_COSINE} (labels were judged by agreement already).
   */
  static Verification.Report judgeInt8(Verification.Report v) {
    List<Comparison.Diff> diffs = new ArrayList<>();
    for (Comparison.Diff d : v.diffs()) {
      if (!d.withinTolerance() && "outside tolerance".equals(d.problem())) {
        boolean ok = d.cosine() >= INT8_MIN_COSINE;
        diffs.add(new Comparison.Diff(d.name(), d.maxAbs(), d.maxRel(), d.cosine(), d.identical(), ok,
            ok ? null : String.format("cosine %.6f to the original (at least %.2f wanted for INT8)", d.cosine(), INT8_MIN_COSINE),
            d.agreeingNonFinite(), d.referenceNaN(), d.referenceInf()));
      } else {
        diffs.add(d);
      }
    }
    return new Verification.Report(diffs, v.skippedBecause(), v.feeds());
  }

  @SuppressWarnings("unchecked")
  static void addJson(Map<String, Object> report, List<ConvertJob.Engine> engines, List<Accuracy.Output> model,
      String modelAgainst) {
    List<Map<String, Object>> listed = (List<Map<String, Object>>) report.get("engines");
    for (int i = 0; i < engines.size(); i++) {
      PrecisionStage.Report p = engines.get(i).precision();
      Map<String, Object> m = listed.get(i);
      m.put("precision", engines.get(i).node().precision());
      // An FP32 engine's table would say "fp32" for every op: its counts say as much in a fraction of the size.
      if (isFp32(engines.get(i))) m.put("ops", p.table().counts());
      else m.put("ops", p.table().toJson());
      if (p.accuracy() != null || p.accuracyNote() != null) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("against", p.against());
        if (p.accuracyNote() != null) a.put("note", p.accuracyNote());
        if (p.accuracy() != null) a.put("outputs", p.accuracy().stream().map(Accuracy.Output::toJson).toList());
        a.put("revertedToFp32", p.reverted());
        m.put("accuracy", a);
      }
    }
    if (model != null) {
      Map<String, Object> a = new LinkedHashMap<>();
      a.put("against", modelAgainst);
      a.put("outputs", model.stream().map(Accuracy.Output::toJson).toList());
      report.put("accuracy", a);
    }
  }

  private static boolean isFp32(ConvertJob.Engine e) {
    return dev.tftrt.precision.Precision.FP32.label().equals(e.node().precision());
  }

  static String markdown(List<ConvertJob.Engine> engines, List<Accuracy.Output> model, String modelAgainst) {
    StringBuilder b = new StringBuilder();
    if (model != null) {
      b.append("\n## Accuracy of the converted model against the original (TensorFlow FP32)\n\n");
      b.append("Measured against ").append(modelAgainst).append(".\n\n");
      table(b, model);
    }
    b.append("\n## Precision of every op\n");
    for (ConvertJob.Engine e : engines) {
      PrecisionStage.Report p = e.precision();
      PrecisionTable t = p.table();
      b.append("\n### ").append(e.node().name()).append(" (").append(e.node().precision()).append(")\n\n");
      List<String> counts = new ArrayList<>();
      t.counts().forEach((k, v) -> counts.add(v + " " + k));
      b.append("Nodes: ").append(String.join(", ", counts)).append("; casts placed ").append(t.castsPlaced())
          .append(", redundant casts removed ").append(t.castsRemoved()).append(".");
      if (!t.reference().isEmpty()) b.append(" Reference run: ").append(t.reference()).append(".");
      b.append("\n\n");
      if (p.accuracyNote() != null) b.append("Estimated accuracy ").append(p.accuracyNote()).append("\n\n");
      if (p.accuracy() != null) {
        b.append("Accuracy against ").append(p.against()).append(":\n\n");
        table(b, p.accuracy());
        b.append("\n");
      }
      if (!p.reverted().isEmpty()) {
        b.append("Raised in precision by --accuracy-budget: ").append(String.join(", ", p.reverted())).append("\n\n");
      }
      if (isFp32(e)) {
        b.append("Every op runs in FP32 (--precision fp32).\n");
        continue;
      }
      b.append("| node | op | TensorFlow node | precision | why |\n|---|---|---|---|---|\n");
      for (PrecisionTable.Row r : t.rows()) {
        b.append("| ").append(r.node()).append(" | ").append(r.op()).append(" | ").append(r.tfNode())
            .append(" | ").append(r.precision()).append(" | ").append(r.reason().replace("|", "\\|")).append(" |\n");
      }
    }
    return b.toString();
  }

  private static void table(StringBuilder b, List<Accuracy.Output> outs) {
    b.append("| output | max abs err | max rel err | cosine | agreement |\n|---|---|---|---|---|\n");
    for (Accuracy.Output o : outs) {
      String ag = Double.isNaN(o.agreement()) ? "" : String.format("%.4f%% (%s)", 100 * o.agreement(), o.agreementOf());
      b.append(String.format("| %s | %.3g | %.3g | %.6f | %s |%n", o.name(), o.maxAbs(), o.maxRel(), o.cosine(), ag));
    }
  }
}
