package dev.tftrt.bench;

import dev.tftrt.pipeline.FreezeJob;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.testing.KerasLikeModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How freezing time grows with the number of variables: freezes (load + freeze + verify +
 * write, as `tftrt freeze` does) a Keras-style SavedModel with 500 resource variables (250 dense
 * layers, {@link KerasLikeModels#saveDeepDenseNet}), then every model in ../shared/models that
 * is given as an argument, or, with no arguments, the ones with variables. Prints seconds each.
 */
public final class FreezeVariablesBenchmark {
  private static final List<String> SHARED = List.of("openmv-mobilenet-keras", "mlnet-cifar-tf1",
      "half_plus_two_tf1", "half_plus_two_tf2", "regression/saved_model");

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("tftrt-freeze-vars-bench-");
    Path model = dir.resolve("deep_dense");
    KerasLikeModels.saveDeepDenseNet(model, 1, 250, 32);
    time("Keras-style SavedModel, 250 dense layers", model, dir.resolve("deep.pb"));
    List<Path> shared = new ArrayList<>();
    if (args.length > 0) {
      for (String a : args) shared.add(Path.of(a));
    } else {
      for (String s : SHARED) shared.add(Path.of("../shared/models").resolve(s));
    }
    int i = 0;
    for (Path p : shared) {
      if (!Files.exists(p)) continue;
      try {
        time(p.toString(), p, dir.resolve("shared" + i++ + ".pb"));
      } catch (RuntimeException e) {
        System.out.printf("%-60s not frozen: %s%n", p, e.getMessage());
      }
    }
  }

  private static void time(String what, Path model, Path out) {
    long t0 = System.nanoTime();
    FreezeJob.Report r = FreezeJob.run(new FreezeJob.Options(LoadOptions.of(model), out, true, 0, Map.of()));
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.printf("%-60s %4d variables  %6.2f s  (%d read run(s), verified %s)%n", what,
        r.result().variablesFrozen(), secs, r.result().variableReadRuns(),
        r.verification().identical() ? "bit-identical" : "within rounding");
  }

  private FreezeVariablesBenchmark() {}
}
