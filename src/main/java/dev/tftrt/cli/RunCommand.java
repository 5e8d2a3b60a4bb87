package dev.tftrt.cli;

import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.runtime.Models;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.Npz;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import dev.tftrt.util.OutputTargets;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Runs a model and prints each output's dtype, shape, min, max and mean.")
final class RunCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MODEL", description = "Any model tftrt reads.")
  Path model;

  @Option(names = {"-o", "--output"}, paramLabel = "OUT.npz", description = "Also write the outputs to a .npz file.")
  Path out;

  @Option(names = "--overwrite", description = "Replace OUT.npz if it exists (never an input of this run).")
  boolean overwrite;

  @Mixin CommonOptions common;
  @Mixin BackendOption backendOption;
  @Mixin BuildAtRuntimeOption buildAtRuntime;
  @Mixin BindOptions bind;
  @Mixin InputOptions inputs;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Interruption.prepare();
    PrintWriter pw = spec.commandLine().getOut();
    if (out != null) checkOut(); // before the run, so a refusal costs nothing
    try (ModelRunner m = Models.openWith(bind.apply(common.load(model)), buildAtRuntime.load(backendOption.backend()))) {
      Map<String, HostTensor> feeds = inputs.feeds(m, common.shapes());
      long t0 = System.nanoTime();
      Map<String, HostTensor> results = m.run(feeds);
      pw.printf("ran %s in %.1f ms, inputs: %s%n", m.describe(), (System.nanoTime() - t0) / 1e6, inputs.describe());
      Printing.summary(pw, results);
      if (out != null) {
        checkOut();
        Npz.write(results, out);
        pw.println("wrote " + out);
      }
    }
    return Main.OK;
  }

  /** OUT.npz is a new file, or replaced with --overwrite, and never the model or an input file. */
  private void checkOut() {
    List<Path> read = new ArrayList<>(OutputTargets.modelInputs(model, common.checkpoint));
    read.addAll(inputs.files());
    OutputTargets.check(out, OutputTargets.Kind.FILE, overwrite, read, null);
  }
}
