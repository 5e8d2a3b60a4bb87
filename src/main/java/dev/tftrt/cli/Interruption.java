package dev.tftrt.cli;

import dev.tftrt.runtime.engine.EngineOp;
import dev.tftrt.util.InFlight;
import java.io.PrintWriter;

/**
 * Ctrl-C and SIGTERM while a command runs: the JVM runs this hook, which removes everything the
 * run had not yet put in place (see {@link InFlight}), says so in one line and ends the process
 * with 130 at once. Ending it at once matters: the command's own thread is still inside
 * TensorFlow, and a normal exit would run TensorFlow's static destructors under it.
 */
final class Interruption {
  /** The shell's code for a process ended by SIGINT (128 + 2); used for SIGTERM too. */
  static final int EXIT_CODE = 130;

  private static volatile boolean installed;
  private static volatile boolean finished;

  private Interruption() {}

  /** Installs the hook (the CLI's main only: tests run commands in-process). */
  static void install(PrintWriter err) {
    installed = true;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (finished) return; // a normal exit
      int removed = InFlight.abandon();
      var placed = InFlight.placed();
      if (removed == 0 && !placed.isEmpty()) { // the signal came after the output was complete
        err.println("tftrt: interrupted after writing " + placed.get(0) + ", which is complete.");
      } else {
        err.println("tftrt: interrupted; removed what this run had started to write.");
      }
      err.flush();
      EngineOp.exitNow(EXIT_CODE);
    }, "tftrt-interrupted"));
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
