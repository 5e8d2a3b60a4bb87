package dev.tftrt.freeze;

import dev.tftrt.pipeline.FreezeJob;

import static dev.tftrt.testing.TestModels.TWO_OUT_HIDDEN;
import static dev.tftrt.testing.TestModels.TWO_OUT_INPUT;
import static dev.tftrt.testing.TestModels.TWO_OUT_TOTAL;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.Sidecar;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.runtime.Comparison;
import dev.tftrt.runtime.TfRunner;
import dev.tftrt.runtime.Verification;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.TestModels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Freezing a TF1-style SavedModel the test builds with TensorFlow Java: three VariableV2
 * variables, two outputs, an unknown batch dimension, signature names that differ from the
 * graph's node names.
 */
class FreezeTestBuiltModelsTest {
  @TempDir static Path tmp;
  static Path savedModel;
  static Path frozen;
  static FreezeJob.Report report;

  @BeforeAll
  static void freezeOnce() {
    savedModel = tmp.resolve("two_outputs");
    TestModels.saveTwoOutputModel(savedModel, 7);
    frozen = tmp.resolve("frozen.pb");
    report = FreezeJob.run(new FreezeJob.Options(LoadOptions.of(savedModel), frozen, true, 3,
        Map.of(TWO_OUT_INPUT, new long[] {5, 4})));
  }

  @Test
  @DisplayName("the exported model really has VariableV2, Assign and saver ops to remove")
  void sourceHasVariablesAndSaver() {
    try (TfModel m = TfModel.load(LoadOptions.of(savedModel))) {
      Set<String> ops = TestModels.ops(m.graphDef());
      assertTrue(ops.containsAll(List.of("VariableV2", "Assign", "SaveV2", "RestoreV2")), ops.toString());
    }
  }

  @Test
  @DisplayName("no VariableV2, Assign, Save or Restore op is left in the frozen graph")
  void frozenGraphHasNoVariableOrSaverOps() {
    GraphDef g = TestModels.readGraphDef(frozen);
    for (String op : TestModels.ops(g)) {
      assertFalse(op.startsWith("Variable") || op.startsWith("Assign") || op.startsWith("Save")
          || op.startsWith("Restore") || op.equals("MergeV2Checkpoints") || op.equals("ShardedFilename"),
          "frozen graph still has op " + op);
    }
    for (NodeDef n : g.getNodeList()) {
      assertFalse(n.getName().startsWith("save/"), "saver node left: " + n.getName());
    }
    assertEquals(0, g.getLibrary().getFunctionCount());
  }

  @Test
  @DisplayName("each variable becomes a Const of the same name")
  void variablesBecomeConstants() {
    GraphDef g = TestModels.readGraphDef(frozen);
    for (String v : List.of("kernel", "bias", "scale")) {
      assertEquals("Const", TestModels.node(g, v).getOp(), v);
    }
    assertEquals(3, report.result().variablesFrozen());
    assertEquals(0, report.result().functionsInlined());
    assertEquals(report.result().nodesBefore() - g.getNodeCount(), report.result().nodesRemoved());
  }

  @Test
  @DisplayName("the unknown batch dimension stays unknown in the frozen graph")
  void batchDimensionStaysUnknown() {
    GraphDef g = TestModels.readGraphDef(frozen);
    NodeDef in = TestModels.node(g, "features");
    assertEquals("Placeholder", in.getOp());
    var dims = in.getAttrMap().get("shape").getShape().getDimList();
    assertEquals(2, dims.size());
    assertEquals(-1, dims.get(0).getSize());
    assertEquals(4, dims.get(1).getSize());
  }

  @Test
  @DisplayName("FreezeJob's own verification passes bit-identically on both outputs")
  void verificationIsBitIdentical() {
    Verification.Report v = report.verification();
    assertNull(v.skippedBecause());
    assertTrue(v.passed());
    assertTrue(v.identical());
    assertEquals(List.of(TWO_OUT_HIDDEN, TWO_OUT_TOTAL), v.diffs().stream().map(Comparison.Diff::name).toList());
    assertArrayEquals(new long[] {5, 4}, v.feeds().get(TWO_OUT_INPUT).shape());
  }

  @Test
  @DisplayName("the written frozen graph equals the SavedModel on fresh random input, bit for bit")
  void frozenFileEqualsSavedModel() {
    try (TfRunner a = new TfRunner(TfModel.load(LoadOptions.of(savedModel)));
        TfRunner b = new TfRunner(TfModel.load(LoadOptions.of(frozen)))) {
      for (long batch : new long[] {1, 6}) {
        Map<String, HostTensor> feeds = Map.of(TWO_OUT_INPUT, TestModels.randomFloats(100 + batch, batch, 4));
        Map<String, HostTensor> ra = a.run(feeds);
        Map<String, HostTensor> rb = b.run(feeds);
        assertArrayEquals(new long[] {batch, 3}, ra.get(TWO_OUT_HIDDEN).shape());
        assertArrayEquals(new long[] {batch}, ra.get(TWO_OUT_TOTAL).shape());
        for (String out : List.of(TWO_OUT_HIDDEN, TWO_OUT_TOTAL)) {
          assertTrue(ra.get(out).contentEquals(rb.get(out)), out + " differs at batch " + batch);
          Comparison.Diff d = Comparison.diff(out, rb.get(out), ra.get(out), FreezeJob.RTOL, FreezeJob.ATOL);
          assertTrue(d.identical() && d.withinTolerance(), d.toString());
          assertEquals(0.0, d.maxAbs());
        }
      }
      Verification.Report v = Verification.run(a, b, null, Map.of(TWO_OUT_INPUT, new long[] {9, 4}), 42,
          FreezeJob.RTOL, FreezeJob.ATOL);
      assertTrue(v.identical(), v.diffs().toString());
    }
  }

  @Test
  @DisplayName("the sidecar JSON names inputs and outputs by their signature names")
  void sidecarUsesSignatureNames() throws IOException {
    JsonNode json = new ObjectMapper().readTree(Sidecar.pathFor(frozen).toFile());
    assertEquals(Sidecar.FORMAT, json.get("format").asText());
    assertEquals("serving_default", json.get("signature").asText());
    assertEquals("SAVED_MODEL", json.get("sourceFormat").asText());
    assertEquals(1, json.get("inputs").size());
    JsonNode in = json.get("inputs").get(0);
    assertEquals(TWO_OUT_INPUT, in.get("name").asText());
    assertEquals("features:0", in.get("tensor").asText());
    assertEquals("float32", in.get("dtype").asText());
    assertEquals("[-1,4]", in.get("shape").toString());
    Set<String> outs = new TreeSet<>();
    json.get("outputs").forEach(o -> outs.add(o.get("name").asText() + "=" + o.get("tensor").asText()));
    assertEquals(Set.of(TWO_OUT_HIDDEN + "=relu:0", TWO_OUT_TOTAL + "=row_sum:0"), outs);
    assertEquals(3, json.get("freezing").get("variablesFrozen").asInt());
  }

  @Test
  @DisplayName("loading the frozen graph picks up the sidecar's names")
  void frozenGraphLoadsWithSignatureNames() {
    try (TfModel m = TfModel.load(LoadOptions.of(frozen))) {
      assertEquals("serving_default", m.signature());
      assertEquals(List.of(new TensorSpec(TWO_OUT_INPUT, "features:0", DataType.DT_FLOAT, new long[] {-1, 4})),
          m.inputs());
      assertEquals(List.of(TWO_OUT_HIDDEN, TWO_OUT_TOTAL), m.outputs().stream().map(TensorSpec::key).toList());
    }
  }

  @Test
  @DisplayName("--outputs prunes the graph to what that output needs")
  void outputsOptionPrunes() {
    FreezeJob.Report r = FreezeJob.run(new FreezeJob.Options(
        LoadOptions.of(savedModel).withOutputs(List.of("relu")), null, true, 1, Map.of()));
    GraphDef g = r.result().graph();
    Set<String> names = new TreeSet<>();
    g.getNodeList().forEach(n -> names.add(n.getName()));
    assertFalse(names.contains("row_sum"), names.toString());
    assertFalse(names.contains("scale"), names.toString());
    assertTrue(names.containsAll(List.of("features", "kernel", "bias", "relu")), names.toString());
    assertEquals(2, r.result().variablesFrozen());
    assertEquals(List.of("relu"), r.result().outputs().stream().map(TensorSpec::key).toList());
    assertTrue(r.verification().identical());
  }
}
