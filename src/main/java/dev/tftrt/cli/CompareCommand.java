package dev.tftrt.cli;

import dev.tftrt.runtime.Comparison;
import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.runtime.Models;
import dev.tftrt.runtime.Verification;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "compare", mixinStandardHelpOptions = true,
    description = "Runs two models on the same inputs and compares their outputs. Prints, per output, the max"
        + " absolute and relative error and the cosine similarity. Exits 1 when an output is out of tolerance,"
        + " that is when |b - a| <= atol + rtol * |a| does not hold (MODEL_A is the reference).")
final class CompareCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MODEL_A", description = "The reference model.")
  Path a;

  @Parameters(index = "1", paramLabel = "MODEL_B", description = "The model checked against it.")
  Path b;

  @Option(names = "--rtol", defaultValue = "1e-4", description = "Relative tolerance (default: ${DEFAULT-VALUE}).")
  double rtol;

  @Option(names = "--atol", defaultValue = "1e-5", description = "Absolute tolerance (default: ${DEFAULT-VALUE}).")
  double atol;

  @Mixin CommonOptions common;
  @Mixin BackendOption backendOption;
  @Mixin BuildAtRuntimeOption buildAtRuntime;
  @Mixin InputOptions inputs;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter pw = spec.commandLine().getOut();
    try (ModelRunner ma = Models.openWith(common.load(a), buildAtRuntime.load(backendOption.backend())); ModelRunner mb = Models.openWith(common.load(b), buildAtRuntime.load(backendOption.backend()))) {
      var feeds = inputs.feeds(ma, common.shapes());
      Verification.Report r = Verification.run(ma, mb, feeds, common.shapes(), inputs.seed, rtol, atol);
      pw.printf("compared %s (reference) with %s, inputs: %s, rtol %g, atol %g%n", a, b, inputs.describe(), rtol, atol);
      Printing.diffs(pw, r.diffs());
      if (r.skippedBecause() != null) {
        // A reference that is not deterministic (dropout) makes any difference meaningless.
        throw new Main.CheckFailedException("not compared: " + r.skippedBecause() + ".");
      }
      var failed = r.diffs().stream().filter(d -> !d.withinTolerance()).toList();
      var nonFinite = failed.stream().filter(Comparison.Diff::referenceNonFinite).findFirst();
      if (nonFinite.isPresent()) {
        var d = nonFinite.get();
        throw new Main.CheckFailedException(a + " gives " + d.referenceNonFiniteKind() + " for output " + d.name()
            + " on these inputs (" + d.problem() + "); feed real values with --input.");
      }
      if (!failed.isEmpty()) {
        throw new Main.CheckFailedException("out of tolerance: "
            + String.join(", ", failed.stream().map(Comparison.Diff::name).toList()) + ".");
      }
      pw.println("all outputs within tolerance");
    }
    return Main.OK;
  }
}
