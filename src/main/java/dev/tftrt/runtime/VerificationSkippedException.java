package dev.tftrt.runtime;

import dev.tftrt.TftrtException;
import java.nio.file.Path;

/**
 * The check of a produced model against its original could not be made (the original fails on
 * generated inputs, or gives different outputs on two runs of the same input), and the user did
 * not allow writing an unchecked model. A skipped check is not a pass: the CLI exits 1, and
 * nothing was written.
 */
public final class VerificationSkippedException extends TftrtException {
  private static final long serialVersionUID = 1L;

  public VerificationSkippedException(String message) {
    super(message);
  }

  /**
   * Throws when {@code report} says the check was not made and {@code allowed} is false; {@code
   * what} names the produced model ("the frozen graph"), {@code out} where it would have gone.
   */
  public static void unlessAllowed(Verification.Report report, String what, Path out, boolean allowed) {
    if (report == null || report.skippedBecause() == null || allowed) return;
    throw new VerificationSkippedException(what + " could not be checked against the original: "
        + report.skippedBecause() + "; nothing was written" + (out == null ? "" : " to " + out)
        + " (--allow-unverified writes it unchecked).");
  }

  /** The warning line for a model written unchecked with --allow-unverified. */
  public static String warning(Verification.Report report, Path out) {
    return "warning: " + out + " was written without being checked against the original: "
        + report.skippedBecause() + ".";
  }
}
