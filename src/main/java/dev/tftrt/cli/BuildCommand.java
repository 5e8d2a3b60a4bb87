package dev.tftrt.cli;

import dev.tftrt.pipeline.BuildJob;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "build", mixinStandardHelpOptions = true,
    description = "Builds the TensorRT engine of every engine node of a converted model for the GPU at hand, so"
        + " that running it needs no build. The engines go into OUTDIR/engines, or into --engine-cache DIR."
        + " Engines already built for this GPU, TensorRT version, shape ranges and options are kept. Needs an"
        + " NVIDIA GPU and the gpu profile.")
final class BuildCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "OUTDIR", description = "A converted model (tftrt convert's output).")
  Path dir;

  @Mixin TensorRtOptions trt;

  @Option(names = {"-v", "--verbose"}, description = "Show TensorRT's log and stack traces.")
  boolean verbose;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Interruption.prepare();
    List<BuildJob.Engine> engines = BuildJob.run(new BuildJob.Options(dir, trt.engineCache, trt.options(), true));
    print(spec.commandLine().getOut(), engines);
    return Main.OK;
  }

  static void print(PrintWriter pw, List<BuildJob.Engine> engines) {
    for (BuildJob.Engine e : engines) {
      pw.printf("  %s: %s -> %s%n", e.name(), e.built() ? e.source() : "up to date (" + e.source() + ")", e.plan());
    }
  }
}
