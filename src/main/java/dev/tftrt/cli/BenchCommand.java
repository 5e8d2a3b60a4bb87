package dev.tftrt.cli;

import dev.tftrt.TftrtException;
import dev.tftrt.bench.Bench;
import dev.tftrt.bench.BenchJson;
import dev.tftrt.bench.BenchOptions;
import dev.tftrt.bench.BenchPlot;
import dev.tftrt.bench.BenchResult;
import dev.tftrt.bench.BenchTable;
import dev.tftrt.bench.DeviceFileProbe;
import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.runtime.Models;
import dev.tftrt.util.AtomicFiles;
import dev.tftrt.util.OutputTargets;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Measures a model's latency and throughput per batch size. With --vs it measures a baseline on"
        + " the same inputs too, and gives the speed-up and the outputs' agreement. Latency is given as min,"
        + " median, p90, p95, p99 and max. Inputs not given with --input are seeded random values (--random is"
        + " implied).")
final class BenchCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MODEL", description = "Any model tftrt runs (a converted folder, say).")
  Path model;

  @Option(names = "--vs", paramLabel = "MODEL2", description = "A baseline (the original, say): speed-up and agreement are against it.")
  Path vs;

  @Option(names = "--batch", split = ",", paramLabel = "N", description = "The batch sizes, such as 1,8,32: dimension 0 of every input (default: the shapes as given).")
  List<Integer> batches = new ArrayList<>();

  @Option(names = "--warmup", defaultValue = "" + BenchOptions.DEFAULT_WARMUP, paramLabel = "N", description = "Calls before measuring (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--iterations", paramLabel = "N", description = "Measured calls per model and batch size (default: " + BenchOptions.DEFAULT_ITERATIONS + ").")
  Integer iterations;

  @Option(names = "--seconds", paramLabel = "S", description = "Measure for this long instead of a number of calls.")
  Double seconds;

  @Option(names = "--threads", defaultValue = "1", paramLabel = "N", description = "Concurrent callers (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--rtol", defaultValue = "1e-3", description = "Relative tolerance of the agreement (default: ${DEFAULT-VALUE}).")
  double rtol;

  @Option(names = "--atol", defaultValue = "1e-4", description = "Absolute tolerance of the agreement (default: ${DEFAULT-VALUE}).")
  double atol;

  @Option(names = "--json", paramLabel = "OUT.json", description = "Also write every figure, the machine and the versions as JSON.")
  Path json;

  @Option(names = "--plot", paramLabel = "OUT.png", description = "Also write a chart: latency distributions and throughput per batch size.")
  Path plot;

  @Option(names = "--overwrite", description = "Replace OUT.json and OUT.png if they exist (never an input of this run).")
  boolean overwrite;

  @Mixin CommonOptions common;
  @Mixin BackendOption backendOption;
  @Mixin BuildAtRuntimeOption buildAtRuntime;
  @Mixin InputOptions inputs;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Interruption.prepare();
    PrintWriter pw = spec.commandLine().getOut();
    BenchOptions options = options();
    checkOutputs(); // before the run, so a refusal costs nothing
    try (ModelRunner m = Models.openWith(common.load(model), buildAtRuntime.load(backendOption.backend()));
        ModelRunner base = vs == null ? null : Models.openWith(common.load(vs), buildAtRuntime.load(backendOption.backend()))) {
      BenchResult r = Bench.run(m, base, inputs.given(m), options, DeviceFileProbe.probe());
      BenchTable.print(pw, r);
      pw.flush();
      Map<Path, AtomicFiles.Writer> files = new LinkedHashMap<>();
      if (json != null) files.put(json, BenchJson.writer(r));
      if (plot != null) files.put(plot, BenchPlot.writer(r));
      if (!files.isEmpty()) {
        checkOutputs();
        AtomicFiles.write(files);
        for (Path p : files.keySet()) pw.println("wrote " + p);
      }
    }
    return Main.OK;
  }

  private BenchOptions options() {
    if (iterations != null && seconds != null) throw new TftrtException("--iterations and --seconds both given: give one.");
    BenchOptions o = BenchOptions.defaults().withBatches(batches).withWarmup(warmup).withThreads(threads)
        .withShapes(common.shapes()).withSeed(inputs.seed).withTolerance(rtol, atol);
    if (seconds != null) return o.withSeconds(seconds);
    return iterations != null ? o.withIterations(iterations) : o;
  }

  /** OUT.json and OUT.png are new files (or replaced with --overwrite), two different ones, and no input. */
  private void checkOutputs() {
    List<Path> read = new ArrayList<>(OutputTargets.modelInputs(model, common.checkpoint));
    if (vs != null) read.addAll(OutputTargets.modelInputs(vs, common.checkpoint));
    read.addAll(inputs.files());
    if (json != null) OutputTargets.check(json, OutputTargets.Kind.FILE, overwrite, read, null);
    if (plot != null) {
      if (json != null && plot.toAbsolutePath().normalize().equals(json.toAbsolutePath().normalize())) {
        throw new TftrtException("--json and --plot both name " + plot + ": give two files.");
      }
      OutputTargets.check(plot, OutputTargets.Kind.FILE, overwrite, read, null);
    }
  }
}
