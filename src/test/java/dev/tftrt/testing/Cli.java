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
    try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
      code = Main.execute(args, o, e);
    }
    return new Result(code, out.toString(), err.toString());
  }
}
