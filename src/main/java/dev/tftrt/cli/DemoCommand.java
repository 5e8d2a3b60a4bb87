package dev.tftrt.cli;

import dev.tftrt.demo.DemoModel;
import dev.tftrt.pipeline.FreezeJob;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.runtime.Models;
import dev.tftrt.runtime.Verification;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import dev.tftrt.util.InFlight;
import dev.tftrt.util.OutputTargets;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Shows the whole pipeline on a model it builds, with no arguments or downloads. It builds a"
        + " small convolutional classifier with TensorFlow Java, saves it as a SavedModel, freezes it, converts it"
        + " (engine nodes running ONNX Runtime on a CPU), and compares each result with the SavedModel.")
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--dir", paramLabel = "DIR", description = "Where to put the models (default: a new temporary folder).")
  Path dir;

  @Option(names = "--seed", defaultValue = "42", description = "Seed for the weights and the inputs.")
  long seed;

  @Option(names = {"-v", "--verbose"}, description = "Show TensorFlow's own log lines and stack traces.")
  boolean verbose;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    Interruption.prepare();
    PrintWriter out = spec.commandLine().getOut();
    Path root;
    if (dir != null) {
      // A new or empty folder only: the demo writes several models into it.
      OutputTargets.check(dir, OutputTargets.Kind.FOLDER, false, List.of(), null);
      if (!Files.exists(dir)) InFlight.removeOnInterrupt(Files.createDirectory(dir));
      root = dir;
    } else {
      root = Files.createTempDirectory("tftrt-demo-");
      InFlight.removeOnInterrupt(root);
    }
    Path saved = root.resolve("saved_model");
    InFlight.removeOnInterrupt(saved);
    out.println("1. building a conv + batch-norm + dense classifier with TensorFlow Java");
    DemoModel.save(saved, seed);
    out.println("   saved SavedModel " + saved);

    out.println("2. freezing it");
    Path frozen = root.resolve("frozen.pb");
    // What each step puts in place goes too if a later step is interrupted: the demo is one run.
    InFlight.removeOnInterrupt(frozen);
    InFlight.removeOnInterrupt(dev.tftrt.model.Sidecar.pathFor(frozen));
    FreezeJob.Report r = FreezeJob.run(new FreezeJob.Options(LoadOptions.of(saved), frozen, true, seed, Map.of()));
    Map<String, Object> s = r.result().stats();
    out.printf("   %s: %s nodes -> %s, %s variables frozen, verified: %s%n", frozen, s.get("nodesBefore"),
        s.get("nodesAfter"), s.get("variablesFrozen"), r.verification().identical() ? "bit-identical" : "within rounding");

    out.println("3. comparing the frozen graph with the SavedModel on a batch of 8 random images");
    try (ModelRunner a = Models.open(LoadOptions.of(saved)); ModelRunner b = Models.open(LoadOptions.of(frozen))) {
      Verification.Report v = Verification.run(a, b, null, Map.of("image", new long[] {8, 16, 16, 3}), seed,
          FreezeJob.RTOL, FreezeJob.ATOL);
      Printing.diffs(out, v.diffs());
      if (!v.passed()) throw new Main.CheckFailedException("the frozen demo model does not match the SavedModel.");
    }
    out.println("4. converting it: segments become engine nodes (ONNX inside), spliced into the graph");
    Path converted = root.resolve("converted");
    InFlight.removeOnInterrupt(converted);
    ConvertJob.Report c = ConvertJob.run(ConvertJob.Options.of(LoadOptions.of(saved), converted));
    int[] heavy = c.plan().computeHeavyInEngines();
    out.printf("   %s: %d engine(s), %d of %d conv/matmul ops inside them, %d node(s) left in TensorFlow%n",
        converted, c.engines().size(), heavy[0], heavy[1], c.plan().nodesLeftInTensorFlow());
    c.backends().forEach((node, backend) -> out.println("   " + node + " runs on " + backend));

    out.println("5. comparing the converted model with the SavedModel on a batch of 8 random images");
    try (ModelRunner a = Models.open(LoadOptions.of(saved)); ModelRunner b = Models.open(LoadOptions.of(converted))) {
      Verification.Report v = Verification.run(a, b, null, Map.of("image", new long[] {8, 16, 16, 3}), seed + 1,
          ConvertJob.RTOL, ConvertJob.ATOL);
      Printing.diffs(out, v.diffs());
      if (!v.passed()) throw new Main.CheckFailedException("the converted demo model does not match the SavedModel.");
    }
    for (Path p : List.of(saved, frozen, dev.tftrt.model.Sidecar.pathFor(frozen), converted, root)) InFlight.keep(p);
    out.println("done: models are in " + root);
    out.println("next: bin/tftrt inspect " + converted + "   or   bin/tftrt run " + converted
        + " --random --shape image=4,16,16,3");
    return Main.OK;
  }
}
