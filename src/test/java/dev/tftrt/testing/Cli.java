package dev.tftrt.testing;

import dev.tftrt.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the tftrt command line in-process and captures what it printed. */
public final class Cli {
  private Cli() {}

  /** The exit code and the text printed to standard output and standard error. */
  public record Result(int code, String out, String err) {
    /** The first line of standard error. */
    public String firstErrLine() {
      int nl = err.indexOf('\n');
      return (nl < 0 ? err : err.substring(0, nl)).stripTrailing();
    }

    @Override
    public String toString() {
      return "exit " + code + "\n--- out:\n" + out + "--- err:\n" + err;
    }
  }

  public static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code;
    // Main sets the root logger's level for the CLI; tests that run later in the same JVM and
    // read the library's INFO records must not depend on which CLI test ran before them.
    java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
    java.util.logging.Level level = root.getLevel();
    try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
      code = Main.execute(args, o, e);
    } finally {
      root.setLevel(level);
    }
    return new Result(code, out.toString(), err.toString());
  }
}
