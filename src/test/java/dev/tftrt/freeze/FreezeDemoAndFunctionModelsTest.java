package dev.tftrt.freeze;

import dev.tftrt.pipeline.FreezeJob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tftrt.demo.DemoModel;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.runtime.TfRunner;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.TestModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.GraphDef;

/** The demo model and a model whose output comes through a TF Java function call. */
class FreezeDemoAndFunctionModelsTest {
  @TempDir Path tmp;

  @Test
  @DisplayName("DemoModel.save then freeze: verified bit-identical, no variables left")
  void demoModelFreezesIdentically() {
    Path saved = tmp.resolve("demo");
    DemoModel.save(saved, 5);
    FreezeJob.Report r = FreezeJob.run(new FreezeJob.Options(LoadOptions.of(saved), tmp.resolve("demo.pb"), true, 9,
        Map.of("image", new long[] {3, 16, 16, 3})));
    assertTrue(r.verification().passed(), r.verification().diffs().toString());
    assertTrue(r.verification().identical(), r.verification().diffs().toString());
    assertEquals(List.of("logits", "probabilities"), r.result().outputs().stream().map(TensorSpec::key).toList());
    // 2 conv blocks x (kernel, gamma, beta, mean, variance) + 2 dense x (kernel, bias)
    assertEquals(14, r.result().variablesFrozen());
    Set<String> ops = TestModels.ops(TestModels.readGraphDef(tmp.resolve("demo.pb")));
    assertFalse(ops.contains("VariableV2"), ops.toString());
    assertTrue(ops.containsAll(List.of("Conv2D", "MatMul", "Softmax")), ops.toString());
  }

  @Test
  @DisplayName("a SavedModel whose output comes through a function call freezes with the call inlined")
  void functionCallIsInlined() {
    Path saved = tmp.resolve("fn");
    TestModels.saveFunctionCallModel(saved);
    try (TfModel m = TfModel.load(LoadOptions.of(saved))) {
      Set<String> ops = TestModels.ops(m.graphDef());
      assumeTrue(ops.contains("PartitionedCall") || ops.contains("StatefulPartitionedCall"),
          "TF Java did not emit a call node: " + ops);
      assertTrue(m.graphDef().getLibrary().getFunctionCount() > 0);
    }
    FreezeJob.Report r = FreezeJob.run(new FreezeJob.Options(LoadOptions.of(saved), null, true, 2,
        Map.of("x", new long[] {4, 2})));
    GraphDef g = r.result().graph();
    Set<String> ops = TestModels.ops(g);
    assertFalse(ops.contains("PartitionedCall") || ops.contains("StatefulPartitionedCall"), ops.toString());
    assertFalse(ops.contains("VariableV2"), ops.toString());
    assertEquals(0, g.getLibrary().getFunctionCount());
    assertTrue(r.result().functionsInlined() >= 1);
    assertTrue(r.verification().identical(), r.verification().diffs().toString());

    // y = (3x + 1) + [0.25, -0.5]
    try (TfRunner frozen = new TfRunner(TfModel.fromGraphDef(g, "frozen", r.result().inputs(), r.result().outputs()))) {
      HostTensor y = frozen.run(Map.of("x", HostTensor.ofFloats(new long[] {2, 2}, 0f, 1f, -1f, 2f))).get("y");
      assertArrayEquals(new float[] {1.25f, 3.5f, -1.75f, 6.5f}, TestModels.floats(y));
    }
  }
}
