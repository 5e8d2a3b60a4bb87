package dev.tftrt.freeze;

import dev.tftrt.pipeline.FreezeJob;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.demo.DemoModel;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.testing.KerasLikeModels;
import dev.tftrt.testing.TestModels;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8, class 11: reading each variable by its own session run makes TensorFlow prepare the
 * whole graph again per variable, so freezing time grew with variables x graph size (61 s for a
 * 5 MB Keras model with 137 variables). All values are read in one run. Timing is left to
 * dev.tftrt.bench.FreezeVariablesBenchmark; this checks the runs and the values.
 */
class FreezeVariableReadsTest {
  @TempDir Path tmp;

  private static FreezeJob.Report freeze(Path model, Path out) {
    return FreezeJob.run(new FreezeJob.Options(LoadOptions.of(model), out, true, 0, Map.of()));
  }

  @Test
  void aKerasStyleModelWithManyResourceVariablesIsReadInOneRun() {
    Path model = tmp.resolve("deep");
    KerasLikeModels.saveDeepDenseNet(model, 4, 40, 8);
    FreezeJob.Report r = freeze(model, tmp.resolve("deep.pb"));
    assertEquals(80, r.result().variablesFrozen());
    assertEquals(1, r.result().variableReadRuns());
    assertTrue(r.verification().identical(), "bit-identical to the SavedModel");
  }

  @Test
  void tf1VariablesAreReadInOneRun() {
    Path model = tmp.resolve("demo");
    DemoModel.save(model, 2);
    FreezeJob.Report r = freeze(model, tmp.resolve("demo.pb"));
    assertEquals(14, r.result().variablesFrozen());
    assertEquals(1, r.result().variableReadRuns());
    assertTrue(r.verification().identical());
  }

  @Test
  void theSharedKerasModelWith137VariablesIsReadInOneRun() {
    FreezeJob.Report r = freeze(TestModels.shared("openmv-mobilenet-keras"), tmp.resolve("openmv.pb"));
    assertEquals(137, r.result().variablesFrozen());
    assertEquals(1, r.result().variableReadRuns());
    assertTrue(r.verification().passed());
  }
}
