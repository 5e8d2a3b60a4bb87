package dev.tftrt.runtime;

import dev.tftrt.TftrtException;

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
    super(produced + " outputs differ from " + reference + ": " + String.join(", ",
        report.diffs().stream().filter(d -> !d.withinTolerance())
            .map(d -> d.name() + " (max abs error " + d.maxAbs() + ")").toList()) + consequence + ".");
    this.report = report;
  }

  public Verification.Report report() {
    return report;
  }
}
