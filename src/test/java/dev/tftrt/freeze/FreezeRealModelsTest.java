package dev.tftrt.freeze;

import dev.tftrt.pipeline.FreezeJob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.runtime.Models;
import dev.tftrt.runtime.TfRunner;
import dev.tftrt.runtime.Verification;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.Loads;
import dev.tftrt.testing.TestModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;
import org.tensorflow.proto.GraphDef;

/**
 * Freezing the real models in ../shared/models: each frozen graph equals the original on random
 * input, both in FreezeJob's own verification and when the written file is reopened.
 */
class FreezeRealModelsTest {
  @TempDir Path tmp;

  /** name, model path under ../shared/models, --outputs, shape of the first input for the check. */
  static Stream<Arguments> models() {
    return Stream.of(
        Arguments.of("regression SavedModel", "regression/saved_model", List.of(), "X", new long[] {5}),
        Arguments.of("regression .meta + checkpoint", "regression/checkpoint/model.meta", List.of("pred"), "X",
            new long[] {5}),
        Arguments.of("regression frozen GraphDef", "regression/graphdef/frozen.pb", List.of(), "X", new long[] {5}),
        Arguments.of("half_plus_two TF1", "half_plus_two_tf1", List.of(), "x", new long[] {3, 1}),
        Arguments.of("half_plus_two TF2", "half_plus_two_tf2", List.of(), "x", new long[] {1}),
        Arguments.of("mlp-fc-layers frozen GraphDef", "mlp-fc-layers/frozen.pb", List.of(), "X",
            new long[] {2, 784}));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  @DisplayName("the frozen graph equals the original on random input")
  void frozenEqualsOriginal(String name, String rel, List<String> outputs, String input, long[] shape) {
    Path model = TestModels.shared(rel);
    Path out = tmp.resolve("frozen.pb");
    FreezeJob.Report r = FreezeJob.run(new FreezeJob.Options(LoadOptions.of(model).withOutputs(outputs), out, true,
        17, Map.of()));
    Verification.Report v = r.verification();
    assertNull(v.skippedBecause());
    assertTrue(v.passed(), v.diffs().toString());
    assertTrue(v.identical(), v.diffs().toString());
    assertFalse(v.diffs().isEmpty());

    // Reopen the written file (with its sidecar) and compare on a fresh, bigger input.
    try (ModelRunner a = Models.open(LoadOptions.of(model).withOutputs(outputs));
        ModelRunner b = Models.open(LoadOptions.of(out))) {
      Verification.Report v2 = Verification.run(a, b, null, Map.of(input, shape), 99, FreezeJob.RTOL, FreezeJob.ATOL);
      assertNull(v2.skippedBecause());
      assertTrue(v2.identical(), v2.diffs().toString());
      assertArrayEquals(shape, v2.feeds().get(input).shape());
    }
  }

  @Test
  @DisplayName("half_plus_two_tf2: no resource variables, calls or function library left; y = x/2 + 2")
  void halfPlusTwoTf2HasNoFunctionsLeft() {
    Path model = TestModels.shared("half_plus_two_tf2");
    FreezeJob.Report r = FreezeJob.run(new FreezeJob.Options(LoadOptions.of(model), null, true, 0, Map.of()));
    GraphDef g = r.result().graph();
    Set<String> ops = TestModels.ops(g);
    for (String op : List.of("VarHandleOp", "ReadVariableOp", "StatefulPartitionedCall", "PartitionedCall",
        "AssignVariableOp", "RestoreV2", "SaveV2")) {
      assertFalse(ops.contains(op), "frozen graph still has " + op + ": " + ops);
    }
    assertEquals(0, g.getLibrary().getFunctionCount());
    assertEquals(2, r.result().variablesFrozen());
    assertTrue(r.result().functionsInlined() >= 1);
    assertEquals(List.of("x"), r.result().inputs().stream().map(TensorSpec::key).toList());
    assertEquals(List.of("y"), r.result().outputs().stream().map(TensorSpec::key).toList());

    try (TfRunner frozen = new TfRunner(TfModel.fromGraphDef(g, "frozen", r.result().inputs(), r.result().outputs()))) {
      for (float x : new float[] {4f, 0f, -3f, 1e6f}) {
        HostTensor y = frozen.run(Map.of("x", HostTensor.ofFloats(new long[] {1}, x))).get("y");
        assertArrayEquals(new float[] {x / 2 + 2}, TestModels.floats(y), "x = " + x);
      }
    }
  }

  @Test
  @DisplayName("half_plus_two_tf1: frozen graph keeps only the x -> y path")
  void halfPlusTwoTf1IsPruned() {
    Path model = TestModels.shared("half_plus_two_tf1");
    FreezeJob.Report r = FreezeJob.run(new FreezeJob.Options(LoadOptions.of(model), null, false, 0, Map.of()));
    Set<String> ops = TestModels.ops(r.result().graph());
    for (String op : List.of("VariableV2", "Assign", "ParseExample", "ParseExampleV2", "SaveV2", "RestoreV2")) {
      assertFalse(ops.contains(op), "frozen graph still has " + op + ": " + ops);
    }
    assertNull(r.verification());
    try (TfRunner frozen = new TfRunner(TfModel.fromGraphDef(r.result().graph(), "frozen", r.result().inputs(),
        r.result().outputs()))) {
      HostTensor y = frozen.run(Map.of("x", HostTensor.ofFloats(new long[] {3, 1}, 0f, 1f, 4f))).get("y");
      assertArrayEquals(new long[] {3, 1}, y.shape());
      assertArrayEquals(new float[] {2f, 2.5f, 4f}, TestModels.floats(y));
    }
  }

  @Test
  @DisplayName("half_plus_two_tf2 regress_x_to_y (tf.Example input): verification not run on random strings; "
      + "the frozen graph equals the SavedModel on real Examples")
  void tfExampleSignature() {
    Path model = TestModels.shared("half_plus_two_tf2");
    LoadOptions load = Loads.of(model).signature("regress_x_to_y").build();
    FreezeJob.Report r = FreezeJob.run(new FreezeJob.Options(load, null, true, 0, Map.of()));
    assertTrue(r.verification().skippedBecause().startsWith("the original model does not run on generated inputs ("),
        r.verification().skippedBecause());
    assertFalse(TestModels.ops(r.result().graph()).contains("StatefulPartitionedCall"));

    byte[][] examples = new byte[3][];
    float[] xs = {4f, -1f, 10f};
    for (int i = 0; i < 3; i++) {
      examples[i] = Example.newBuilder().setFeatures(Features.newBuilder().putFeature("x",
          Feature.newBuilder().setFloatList(FloatList.newBuilder().addValue(xs[i])).build())).build().toByteArray();
    }
    Map<String, HostTensor> feeds = Map.of("inputs", HostTensor.ofStrings(new long[] {3}, examples));
    try (TfRunner original = new TfRunner(TfModel.load(load));
        TfRunner frozen = new TfRunner(TfModel.fromGraphDef(r.result().graph(), "frozen", r.result().inputs(),
            r.result().outputs()))) {
      HostTensor a = original.run(feeds).get("outputs");
      HostTensor b = frozen.run(feeds).get("outputs");
      assertTrue(a.contentEquals(b));
      assertArrayEquals(new float[] {4f, 1.5f, 7f}, TestModels.floats(b));
    }
  }
}
