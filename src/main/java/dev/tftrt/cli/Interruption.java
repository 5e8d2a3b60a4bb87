package dev.tftrt.cli;

import dev.tftrt.runtime.engine.EngineOp;
import dev.tftrt.util.InFlight;
import java.io.PrintWriter;

/**
 * Ctrl-C, SIGTERM and SIGHUP while a command runs: a signal handler (not a shutdown hook)
 * removes everything the run had not yet put in place (see {@link InFlight}), says so in one
 * line and ends the process with 130 at once. Not a shutdown hook, because JVM shutdown runs
 * every library's hooks alongside it (JavaCPP frees native memory that TensorFlow and ONNX
 * Runtime threads are still using: SIGSEGV); and at once (_exit), because the command's own
 * threads are still inside TensorFlow and exit() would run its static destructors under them.
 */
@SuppressWarnings("removal") // sun.misc.Signal: the one way to handle SIGTERM without starting JVM shutdown
final class Interruption {
  /** The shell's code for a process ended by SIGINT (128 + 2); used for SIGTERM too. */
  static final int EXIT_CODE = 130;

  private static volatile boolean installed;
  private static volatile boolean finished;
  private static volatile PrintWriter err;

  private Interruption() {}

  /** Installs the handlers (the CLI's main only: tests run commands in-process). */
  static void install(PrintWriter errors) {
    err = errors;
    for (String name : new String[] {"TERM", "INT", "HUP"}) {
      try {
        sun.misc.Signal.handle(new sun.misc.Signal(name), s -> interrupted());
      } catch (IllegalArgumentException e) {
        // not handled on this platform or ignored from the start (INT under a background job)
      }
    }
    installed = true;
  }

  private static synchronized void interrupted() {
    if (finished) return; // the command is done; its own exit code follows
    int removed = InFlight.abandon();
    var placed = InFlight.placed();
    if (removed == 0 && !placed.isEmpty()) { // the signal came after the output was complete
      err.println("tftrt: interrupted after writing " + placed.get(0) + ", which is complete.");
    } else {
      err.println("tftrt: interrupted; removed what this run had started to write.");
    }
    err.flush();
    EngineOp.exitNow(EXIT_CODE);
  }

  /**
   * Called by commands that run TensorFlow, before they start: binds the engine op's bridge so
   * that an interruption can end the process without TensorFlow's destructors. Nothing when
   * the hook is not installed (in-process runs) or the op library is not available.
   */
  static void prepare() {
    if (!installed) return;
    try {
      EngineOp.load();
    } catch (RuntimeException | LinkageError e) {
      // no bridge: an interruption halts instead
    }
  }

  /** The command returned: exiting now is not an interruption. */
  static void finished() {
    finished = true;
  }
}
