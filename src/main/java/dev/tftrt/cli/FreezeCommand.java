package dev.tftrt.cli;

import dev.tftrt.pipeline.FreezeJob;
import dev.tftrt.runtime.Comparison;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "freeze", mixinStandardHelpOptions = true,
    description = "Freezes a model into one self-contained GraphDef. Variables become constants, functions are"
        + " inlined, and only what the outputs need is kept. Writes OUT.pb and OUT.json (inputs, outputs, what was"
        + " done), then checks that the frozen graph gives the original's outputs on random input, unless"
        + " --no-verify.")
final class FreezeCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MODEL", description = "A SavedModel directory, a GraphDef (.pb or .pbtxt file), or a TF1 MetaGraph (.meta file).")
  Path model;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.pb", description = "Where to write the frozen graph.")
  Path out;

  @Option(names = "--overwrite", description = "Replace OUT.pb and OUT.json if it exists (never an input of this run).")
  boolean overwrite;




  @Mixin CommonOptions common;
  @Mixin BindOptions bind;
  @Mixin VerifyOptions check;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Interruption.prepare();
    PrintWriter out = spec.commandLine().getOut();
    long t0 = System.nanoTime();
    FreezeJob.Report r;
    try {
      r = FreezeJob.run(new FreezeJob.Options(bind.apply(common.load(model)), this.out, check.verify(), check.seed,
          common.shapes(), check.given()).withOverwrite(overwrite).withAllowUnverified(check.allowUnverified));
    } catch (dev.tftrt.runtime.VerificationFailedException e) {
      Printing.diffs(out, e.report().diffs());
      throw new Main.CheckFailedException(e.getMessage());
    }
    Map<String, Object> s = r.result().stats();
    out.printf("froze %s -> %s in %.1f s%n", model, this.out, (System.nanoTime() - t0) / 1e9);
    out.printf("  nodes: %s -> %s (%s removed), variables frozen: %s, function calls inlined: %s%n",
        s.get("nodesBefore"), s.get("nodesAfter"), s.get("nodesRemoved"), s.get("variablesFrozen"),
        s.get("functionsInlined"));
    Printing.specs(out, "inputs", r.result().inputs());
    Printing.specs(out, "outputs", r.result().outputs());
    if (r.verification() == null) {
      out.println("  verification: skipped (--no-verify)");
    } else if (r.verification().skippedBecause() != null) {
      out.println("  verification: not run: " + r.verification().skippedBecause());
      check.warnIfUnverified(spec.commandLine().getErr(), r.verification(), this.out);
    } else {
      boolean same = r.verification().diffs().stream().allMatch(Comparison.Diff::identical);
      out.println("  verification: outputs " + (same ? "bit-identical" : "equal within float rounding")
          + " to the original's (inputs: " + check.describe() + ")");
    }
    return Main.OK;
  }
}
