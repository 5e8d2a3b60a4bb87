package dev.tftrt.cli;

import dev.tftrt.TftrtException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The tftrt command line: a thin skin over the Java API. Exit codes: 0 success, 1 a check
 * failed (e.g. outputs out of tolerance), 2 bad input or usage, 3 an internal error.
 */
@Command(name = "tftrt", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Freezes TensorFlow models, converts what TensorRT can run, and checks the results.",
    subcommands = {FreezeCommand.class, ExportOnnxCommand.class, ConvertCommand.class, BuildCommand.class, InspectCommand.class,
        RunCommand.class,
        CompareCommand.class,
        BenchCommand.class,
        DemoCommand.class,
        CommandLine.HelpCommand.class})
public final class Main implements Runnable {
  public static final int OK = 0;
  public static final int CHECK_FAILED = 1;
  public static final int BAD_INPUT = 2;
  public static final int INTERNAL = 3;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
  }

  public static void main(String[] args) {
    PrintWriter err = new PrintWriter(System.err, true);
    Interruption.install(err);
    int code = execute(args, new PrintWriter(System.out, true), err);
    Interruption.finished();
    System.exit(code);
  }

  /** Runs the CLI in-process (tests use this) and returns the exit code. */
  public static int execute(String[] args, PrintWriter out, PrintWriter err) {
    boolean verboseArg = java.util.Arrays.stream(args).anyMatch(a -> a.equals("-v") || a.equals("--verbose"));
    // The library logs its choices (java.util.logging, INFO); the CLI shows them with --verbose.
    java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
    root.setLevel(verboseArg ? java.util.logging.Level.INFO : java.util.logging.Level.WARNING);
    CommandLine cl = commandLine();
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      boolean verbose = parseResult.hasMatchedOption("--verbose")
          || (parseResult.subcommand() != null && parseResult.subcommand().hasMatchedOption("--verbose"));
      if (ex instanceof CheckFailedException || ex instanceof dev.tftrt.runtime.VerificationSkippedException) {
        err.println("tftrt: " + ex.getMessage());
        return CHECK_FAILED;
      }
      if (ex instanceof TftrtException) {
        err.println("tftrt: " + ex.getMessage());
        if (verbose && ex.getCause() != null) ex.getCause().printStackTrace(err);
        return BAD_INPUT;
      }
      err.println("tftrt: internal error: " + ex);
      if (verbose) ex.printStackTrace(err);
      else err.println("(run again with --verbose for the stack trace)");
      return INTERNAL;
    });
    cl.setParameterExceptionHandler((ex, a) -> {
      err.println("tftrt: " + ex.getMessage());
      ex.getCommandLine().usage(err);
      return BAD_INPUT;
    });
    int code;
    try {
      code = cl.execute(args);
    } catch (OutOfMemoryError e) {
      // picocli passes only Exceptions to the handler above; Errors would end the JVM with exit
      // 1 ("a check failed") and a stack trace. Running out of heap is about the input's size.
      err.println("tftrt: ran out of memory (" + dev.tftrt.util.Memory.human(Runtime.getRuntime().maxMemory())
          + " of Java heap): the model or its inputs are too large for it; give more with -Xmx in TFTRT_JAVA_OPTS.");
      code = BAD_INPUT;
    } catch (StackOverflowError e) {
      err.println("tftrt: internal error: the stack overflowed on something nested too deeply.");
      if (verboseArg) e.printStackTrace(err);
      code = INTERNAL;
    }
    out.flush();
    err.flush();
    return code;
  }

  /** The command line with every command and tftrt's help layout (tests render help from it). */
  static CommandLine commandLine() {
    return HelpLayout.apply(new CommandLine(new Main()));
  }

  /** A check the user asked for did not pass (exit 1), as opposed to bad input (exit 2). */
  public static final class CheckFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CheckFailedException(String message) {
      super(message);
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"tftrt " + (v == null ? "(development build)" : v)};
    }
  }
}
