package dev.tftrt.fuzz;

/**
 * How a fuzz case ended, worst first: a campaign reports the first class that applies. OK is
 * exit 0, 1 or 2 with at most a short message on stderr and nothing left behind.
 */
public enum Verdict {
  /** The JVM died (TensorFlow's CHECK, SIGSEGV, OOM-kill) or left an hs_err file. */
  ABORT,
  /** The case ran past its time limit; the worker was killed. */
  HANG,
  /** A Java Error (StackOverflowError, OutOfMemoryError...) escaped or was printed. */
  ERROR,
  /** Something the command did not write itself was deleted or changed. */
  CLOBBER,
  /** Exit 3: the tool called bad input an internal error. */
  INTERNAL,
  /** Files left behind: in the output folder, beside it, in the current or temp folder. */
  LEFTOVER,
  /** A stack trace, or more than a couple of lines on stderr, without --verbose. */
  NOISE,
  OK;

  public boolean failure() {
    return this != OK;
  }
}
