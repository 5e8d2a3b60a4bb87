package dev.tftrt.freeze;

import dev.tftrt.pipeline.FreezeJob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.runtime.Models;
import dev.tftrt.runtime.Verification;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.Cli;
import dev.tftrt.testing.KerasLikeModels;
import dev.tftrt.testing.Loads;
import dev.tftrt.testing.TestModels;
import dev.tftrt.testing.UnoptimizedRuns;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;

/**
 * Issue 2's "the same holds for any TF2 Keras SavedModel of conv/dense layers", as close as this
 * machine allows (no Python TensorFlow): SavedModels laid out the way Keras writes them
 * ({@link KerasLikeModels}: resource variables passed as captures into StatefulPartitionedCall,
 * nested layer functions, restore and init functions, two signatures each) are frozen with no
 * variable, call or function library left and outputs bit-identical to the SavedModel's (with
 * TensorFlow's graph optimizer off on both sides, see {@link #freezesBitIdentically}), converted
 * with every conv and matmul inside engines, and compared by the CLI.
 */
class KerasLikeSavedModelTest {
  private static final Set<String> LEFT_BEHIND = Set.of("VarHandleOp", "ReadVariableOp", "AssignVariableOp",
      "VarIsInitializedOp", "StatefulPartitionedCall", "PartitionedCall", "RestoreV2", "SaveV2");

  @TempDir static Path tmp;
  static Path conv;
  static Path mlp;

  /** One signature of one model: what freezing it must give. */
  record Case(String name, String model, String signature, String input, long[] dims, List<String> outputs,
      int variables, int calls, int computeHeavy) {
    Path path() {
      return tmp.resolve(model);
    }

    long[] shape(long batch) {
      long[] s = dims.clone();
      s[0] = batch;
      return s;
    }

    LoadOptions load() {
      return Loads.of(path()).signature(signature).build();
    }

    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Case> cases() {
    return Stream.of(
        // wrapper → model → conv2d layer + flatten layer (PartitionedCall); 11 variables, one
        // of them (rescaling/scale) set by the init op rather than restored.
        new Case("conv net, serving_default", "conv", "serving_default", KerasLikeModels.CONV_INPUT,
            new long[] {-1, 16, 16, 3}, List.of(KerasLikeModels.CONV_EMBEDDING, KerasLikeModels.CONV_PROBABILITIES),
            11, 4, 3),
        // wrapper → features → the same conv2d layer, fewer captures.
        new Case("conv net, features", "conv", KerasLikeModels.CONV_FEATURES_SIGNATURE, KerasLikeModels.CONV_INPUT,
            new long[] {-1, 16, 16, 3}, List.of(KerasLikeModels.CONV_FEATURES), 7, 3, 1),
        // wrapper → model → the dense layer function twice (shared weights); unfused batch norm.
        new Case("shared-dense net, serving_default", "mlp", "serving_default", KerasLikeModels.MLP_INPUT,
            new long[] {-1, 20}, List.of(KerasLikeModels.MLP_OUTPUT), 8, 4, 3),
        new Case("shared-dense net, serve", "mlp", KerasLikeModels.MLP_SERVE_SIGNATURE, KerasLikeModels.MLP_INPUT,
            new long[] {-1, 20}, List.of(KerasLikeModels.MLP_OUTPUT), 8, 4, 3));
  }

  @BeforeAll
  static void build() {
    conv = tmp.resolve("conv");
    KerasLikeModels.saveConvNet(conv, 11);
    mlp = tmp.resolve("mlp");
    KerasLikeModels.saveSharedDenseNet(mlp, 12);
  }

  @Test
  @DisplayName("the built SavedModels have Keras' layout: captured resource variables, nested calls, restore and init functions")
  void modelsLookLikeKeras() throws IOException {
    for (Path dir : List.of(conv, mlp)) {
      SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(dir.resolve("saved_model.pb")));
      MetaGraphDef meta = sm.getMetaGraphs(0);
      GraphDef g = meta.getGraphDef();
      Set<String> ops = TestModels.ops(g);
      assertTrue(ops.containsAll(List.of("VarHandleOp", "StatefulPartitionedCall")), ops.toString());
      assertTrue(!ops.contains("VariableV2"), ops.toString());
      for (NodeDef n : g.getNodeList()) {
        if (n.getOp().equals("VarHandleOp")) assertEquals(n.getName(), n.getAttrOrThrow("shared_name").getS().toStringUtf8());
      }
      // The serving call takes the signature input and then the variables (resource captures).
      NodeDef call = TestModels.node(g, "StatefulPartitionedCall");
      assertTrue(call.getInputCount() > 1);
      for (String in : call.getInputList().subList(1, call.getInputCount())) {
        assertEquals("VarHandleOp", TestModels.node(g, in).getOp(), in);
      }
      // Restored by a function call named in the SaverDef; initialised by the __saved_model_init_op NoOp.
      assertEquals("StatefulPartitionedCall", TestModels.node(g, meta.getSaverDef().getRestoreOpName()).getOp());
      assertEquals("NoOp", meta.getSignatureDefOrThrow("__saved_model_init_op").getOutputsOrThrow("__saved_model_init_op").getName());
      assertTrue(Files.isRegularFile(dir.resolve("variables/variables.index")));
      assertEquals(2, meta.getSignatureDefCount() - 1, meta.getSignatureDefMap().keySet().toString());
      // Functions call functions (signature wrapper → model → layer), read weights with
      // ReadVariableOp, and name their stateful nodes as control outputs.
      int nested = 0;
      for (FunctionDef f : g.getLibrary().getFunctionList()) {
        for (NodeDef n : f.getNodeDefList()) {
          if (n.getOp().endsWith("PartitionedCall")) nested++;
        }
        if (f.getSignature().getName().startsWith("__inference_model") || f.getSignature().getName().startsWith("__inference_sequential")) {
          assertTrue(f.getNodeDefList().stream().anyMatch(n -> n.getOp().equals("ReadVariableOp")));
          assertTrue(f.getControlRetCount() > 0);
        }
      }
      assertTrue(nested >= 3, "nested calls: " + nested);
    }
  }

  /**
   * Freezing is exact: with TensorFlow's graph optimizer (Grappler) off on both sides, the frozen
   * graph's outputs are bit-identical to the SavedModel's. With it on (how FreezeJob verifies, and
   * how anyone runs the graph) they are not: Grappler rewrites the frozen top-level graph of
   * constants (the remapper fuses MatMul + BiasAdd + Relu, the arithmetic optimizer folds the
   * constant rescaling Mul into the Conv2D filter) but not the SavedModel's function bodies, whose
   * weights are variable reads, and that changes float rounding: up to 2e-6 absolute on the conv
   * net's embedding at batch 5, beyond FreezeJob's own tolerance (atol 1e-6), so this test checks
   * the optimized outputs at compare's default tolerance and FreezeJob's verification separately.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  @DisplayName("freeze: no variable or call left, no function library, outputs bit-identical at batch 1 and 5")
  void freezesBitIdentically(Case c) {
    Path out = tmp.resolve(c.model() + "-" + c.signature() + ".pb");
    FreezeJob.Report r = FreezeJob.run(new FreezeJob.Options(c.load(), out, false, 0, Map.of()));
    GraphDef g = TestModels.readGraphDef(out);
    Set<String> left = new TreeSet<>(TestModels.ops(g));
    left.retainAll(LEFT_BEHIND);
    assertTrue(left.isEmpty(), c + ": left " + left + " in " + TestModels.ops(g));
    assertEquals(0, g.getLibrary().getFunctionCount(), c.toString());
    assertEquals(c.outputs(), r.result().outputs().stream().map(TensorSpec::key).sorted().toList());
    assertEquals(c.variables(), r.result().variablesFrozen(), c.toString());
    assertEquals(c.calls(), r.result().functionsInlined(), c.toString());
    // Still unknown batch: the frozen input keeps the signature's shape.
    assertEquals(-1, r.result().inputs().get(0).shape()[0], c.toString());

    try (ModelRunner original = Models.open(c.load()); ModelRunner frozen = Models.open(LoadOptions.of(out))) {
      for (long batch : new long[] {1, 5}) {
        String what = c + " at batch " + batch;
        Verification.Report v = Verification.run(original, frozen, null, Map.of(c.input(), c.shape(batch)),
            3 + batch, 1e-4, 1e-5);
        assertTrue(v.passed(), what + ": " + v.diffs());
        assertEquals(c.outputs().size(), v.diffs().size(), what);
        Map<String, HostTensor> feeds = v.feeds();
        assertArrayEquals(c.shape(batch), feeds.get(c.input()).shape(), what);

        // Bit-identical on the same inputs, the graph optimizer aside.
        Map<String, HostTensor> saved = UnoptimizedRuns.savedModel(c.path(), c.signature(), feeds);
        Map<String, HostTensor> fz = UnoptimizedRuns.graph(g, r.result().inputs(), r.result().outputs(), feeds);
        assertEquals(saved.keySet(), fz.keySet(), what);
        for (String k : saved.keySet()) {
          assertArrayEquals(saved.get(k).shape(), fz.get(k).shape(), what + ", " + k);
          assertTrue(saved.get(k).contentEquals(fz.get(k)), what + ": output " + k + " differs");
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  @DisplayName("FreezeJob's own verification (random input, unknown batch as 1) finds the outputs bit-identical")
  void freezeJobVerifies(Case c) {
    FreezeJob.Report r = FreezeJob.run(new FreezeJob.Options(c.load(), null, true, 0, Map.of()));
    assertTrue(r.verification().identical(), c + ": " + r.verification().diffs());
    for (long seed = 4; seed <= 13; seed++) {
      // Batch 5 over ten seeds: with Grappler on, seeds 8 and 12 used to differ in the last bits.
      FreezeJob.Report b = FreezeJob.run(new FreezeJob.Options(c.load(), null, true, seed,
          Map.of(c.input(), c.shape(5))));
      assertTrue(b.verification().identical(), c + " seed " + seed + ": " + b.verification().diffs());
    }
    assertArrayEquals(c.shape(1), r.verification().feeds().get(c.input()).shape());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  @DisplayName("convert: every conv and matmul inside engines, the converted model matches the SavedModel")
  void convertsWithComputeInEngines(Case c) {
    // Segmenter.build makes a segment output only of tensors some node reads, plus output 0 of
    // a fetched node: the frozen signature's second output, StatefulPartitionedCall:1 (output 1
    // of the IdentityN that replaced the call), is read by no node, so the engine does not
    // output it and the converted graph cannot fetch it. Remove this line once that is fixed.
    Path out = tmp.resolve("converted-" + c.model() + "-" + c.signature());
    ConvertJob.Report r = ConvertJob.run(ConvertJob.builder(c.load(), out).seed(5).build());
    assertTrue(r.verification().passed(), c + ": " + r.verification().diffs());
    int[] heavy = r.plan().computeHeavyInEngines();
    assertEquals(c.computeHeavy(), heavy[1], c + ": compute-heavy ops in the plan");
    assertEquals(heavy[1], heavy[0], c + ": compute-heavy ops inside engines");
    assertTrue(!r.engines().isEmpty(), c.toString());
    try (ModelRunner original = Models.open(c.load());
        ModelRunner converted = Models.open(LoadOptions.of(out))) {
      for (long batch : new long[] {1, 5}) {
        Verification.Report v = Verification.run(original, converted, null, Map.of(c.input(), c.shape(batch)),
            40 + batch, ConvertJob.RTOL, ConvertJob.ATOL);
        assertTrue(v.passed(), c + " at batch " + batch + ": " + v.diffs());
        assertEquals(c.outputs().size(), v.diffs().size());
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  @DisplayName("tftrt compare SAVEDMODEL FROZEN.pb --random exits 0")
  void compareCliAgrees(Case c) {
    Path frozen = tmp.resolve("cli-" + c.model() + "-" + c.signature() + ".pb");
    Cli.Result f = Cli.run("freeze", c.path().toString(), "-o", frozen.toString(), "--signature", c.signature());
    assertEquals(0, f.code(), f.toString());
    Cli.Result r = Cli.run("compare", c.path().toString(), frozen.toString(), "--random", "--signature", c.signature());
    assertEquals(0, r.code(), r.toString());
    for (String o : c.outputs()) assertTrue(r.out().contains(o), r.toString());
    List<String> shape = new ArrayList<>();
    for (long d : c.shape(5)) shape.add(Long.toString(d));
    Cli.Result r5 = Cli.run("compare", c.path().toString(), frozen.toString(), "--random", "--seed", "7",
        "--signature", c.signature(), "--shape", c.input() + "=" + String.join(",", shape));
    assertEquals(0, r5.code(), r5.toString());
  }
}
