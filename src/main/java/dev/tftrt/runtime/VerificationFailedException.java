package dev.tftrt.runtime;

import dev.tftrt.TftrtException;
import java.util.List;

/**
 * A check of a produced model (frozen, exported, converted) against its reference found outputs
 * out of tolerance. The message names each such output and its largest error; the report has
 * every figure. The CLI prints the table and exits 1.
 */
public final class VerificationFailedException extends TftrtException {
  private static final long serialVersionUID = 1L;
  private final transient Verification.Report report;

  /** E.g. ("the frozen graph's", "the original's", "") → "the frozen graph's outputs differ from the original's: y (...)." */
  public VerificationFailedException(String produced, String reference, String consequence,
      Verification.Report report) {
    super(message(produced, reference, consequence, report));
    this.report = report;
  }

  /**
   * When the reference itself gives NaN or Inf on the check's inputs (random values outside a
   * model's domain, a log of a negative number), that is what the user must hear, not an error
   * figure computed around the NaNs.
   */
  private static String message(String produced, String reference, String consequence, Verification.Report report) {
    List<Comparison.Diff> failed = report.diffs().stream().filter(d -> !d.withinTolerance()).toList();
    List<Comparison.Diff> nonFinite = failed.stream().filter(Comparison.Diff::referenceNonFinite).toList();
    if (!nonFinite.isEmpty()) {
      Comparison.Diff d = nonFinite.get(0);
      return "the original model gives " + d.referenceNonFiniteKind() + " for output " + d.name()
          + (nonFinite.size() > 1 ? " (and " + (nonFinite.size() - 1) + " more)" : "")
          + " on these inputs, so " + produced.replaceFirst("'s$", "") + " cannot be checked against it"
          + " (" + d.problem() + "); feed real values with --input" + consequence + ".";
    }
    return produced + " outputs differ from " + reference + ": " + String.join(", ", failed.stream()
        .map(d -> d.name() + " (" + (d.problem() != null && !d.problem().equals("outside tolerance")
            ? d.problem() : "max abs error " + d.maxAbs()) + ")").toList()) + consequence + ".";
  }

  public Verification.Report report() {
    return report;
  }
}
