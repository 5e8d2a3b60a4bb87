package dev.tftrt.optimize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tftrt.model.GraphDefs;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.runtime.Comparison;
import dev.tftrt.runtime.TfRunner;
import dev.tftrt.tensor.HostTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.proto.GraphDef;

/**
 * Every pass, alone and as the default pipeline, keeps the outputs of the real models in
 * ../shared/models on a fixed random input; BatchNorm folding removes every FusedBatchNorm of
 * deeplab and DS_CNN_S. Each model is loaded and run on the original graph once.
 */
class RealModelsOptimizeTest {
  static final Path MODELS = Path.of("../shared/models");

  /** One model: its graph, designated inputs/outputs, fixed feeds and the original's results. */
  record Model(String name, GraphDef graph, List<String> inputs, List<String> outputs,
      Map<String, HostTensor> feeds, Map<String, HostTensor> reference) {}

  static final Map<String, Model> models = new LinkedHashMap<>();
  static final List<String> report = new ArrayList<>();

  @BeforeAll
  static void load() {
    if (!Files.isDirectory(MODELS)) return;
    add("deeplab", "deeplab-mnv2-portrait/frozen_inference_graph.pb",
        List.of("SemanticPredictions", "SemanticProbabilities"), Map.of("ImageTensor", new long[] {1, 257, 257, 3}), Map.of());
    add("ds_cnn_s", "kws/DS_CNN_S.pb", List.of("labels_softmax"), Map.of(), Map.of());
    add("cnn_s", "kws/CNN_S.pb", List.of("labels_softmax"), Map.of(), Map.of());
    add("lstm_s", "kws/LSTM_S.pb", List.of("labels_softmax"), Map.of(), Map.of());
    add("mlp", "mlp-fc-layers/frozen.pb", List.of(), Map.of("X", new long[] {4, 784}), Map.of());
    add("lstm", "lstm-unrolled/frozen.pb", List.of(), Map.of("X", new long[] {3, 784}),
        Map.of("keep_prob", HostTensor.scalarOf(org.tensorflow.proto.DataType.DT_FLOAT, 1.0)));
  }

  private static void add(String name, String file, List<String> outputs, Map<String, long[]> shapes,
      Map<String, HostTensor> given) {
    Path p = MODELS.resolve(file);
    if (!Files.isRegularFile(p)) return;
    try (TfModel m = TfModel.load(LoadOptions.of(p).withOutputs(outputs));
        TfRunner r = TfRunner.borrowing(m)) {
      Map<String, HostTensor> byKey = new LinkedHashMap<>(r.randomInputs(shapes, 20240601L));
      byKey.putAll(given);
      Map<String, HostTensor> feeds = new LinkedHashMap<>();
      List<String> inputs = new ArrayList<>();
      for (TensorSpec s : m.inputs()) {
        feeds.put(s.tensor(), byKey.get(s.key()));
        inputs.add(s.tensor());
      }
      List<String> outs = m.outputs().stream().map(TensorSpec::tensor).toList();
      GraphDef g = GraphDefs.read(p, false);
      models.put(name, new Model(name, g, inputs, outs, feeds, Graphs.run(g, feeds, outs)));
    }
  }

  static Model model(String name) {
    assumeTrue(Files.isDirectory(MODELS), "../shared/models is absent");
    Model m = models.get(name);
    assumeTrue(m != null, name + " is absent from ../shared/models");
    return m;
  }

  static PassContext context(Model m) {
    return PassContext.of(m.inputs(), m.outputs());
  }

  static void assertOutputsKept(Model m, GraphDef optimized, String what) {
    Map<String, HostTensor> got = Graphs.run(optimized, m.feeds(), m.outputs());
    for (String out : m.outputs()) {
      HostTensor want = m.reference().get(out);
      HostTensor have = got.get(out);
      if (out.startsWith("SemanticPredictions")) {
        long n = want.numElements();
        long same = 0;
        for (long i = 0; i < n; i++) if (want.getDouble(i) == have.getDouble(i)) same++;
        assertTrue(same >= n * 0.999, what + ": " + out + " agrees on only " + same + " of " + n + " pixels");
        continue;
      }
      double rtol = out.startsWith("SemanticProbabilities") ? 0 : 1e-4;
      double atol = out.startsWith("SemanticProbabilities") ? 1e-4 : 1e-5;
      Comparison.Diff d = Comparison.diff(out, have, want, rtol, atol);
      assertTrue(d.withinTolerance(), what + ": " + d);
    }
  }

  static Stream<Arguments> cases() {
    List<Arguments> r = new ArrayList<>();
    for (String m : List.of("deeplab", "ds_cnn_s", "cnn_s", "lstm_s", "mlp", "lstm")) {
      for (GraphPass p : Optimizer.defaultPasses()) r.add(Arguments.of(m, p.name()));
      r.add(Arguments.of(m, "pipeline"));
    }
    return r.stream();
  }

  private static final Map<String, Function<PassContext, GraphPass>> PASSES = Map.of(
      RemoveIdentityPass.NAME, c -> new RemoveIdentityPass(),
      ConstantFoldingPass.NAME, c -> new ConstantFoldingPass(),
      BatchNormFoldingPass.NAME, c -> new BatchNormFoldingPass());

  @ParameterizedTest(name = "{1} keeps the outputs of {0}")
  @MethodSource("cases")
  void passKeepsOutputs(String name, String pass) {
    Model m = model(name);
    PassContext ctx = context(m);
    GraphDef opt;
    if (pass.equals("pipeline")) {
      Optimizer.Result res = Optimizer.defaultPipeline().run(m.graph(), ctx);
      opt = res.graph();
      report.add(name + " " + res.summary());
      assertTrue(opt.getNodeCount() < m.graph().getNodeCount(), res.summary());
    } else {
      opt = PASSES.get(pass).apply(ctx).apply(m.graph(), ctx);
      report.add(name + " " + pass + ": " + m.graph().getNodeCount() + " -> " + opt.getNodeCount() + " " + ctx.counts(pass));
    }
    for (String in : m.inputs()) assertTrue(Graphs.has(opt, dev.tftrt.model.TensorNames.node(in)), in);
    assertOutputsKept(m, opt, pass);
  }

  @Test
  void batchNormFoldingRemovesEveryFusedBatchNormInDeeplab() {
    Model m = model("deeplab");
    assertEquals(54, Graphs.countPrefix(m.graph(), "FusedBatchNorm"));
    PassContext ctx = context(m);
    GraphDef opt = new BatchNormFoldingPass().apply(m.graph(), ctx);
    assertEquals(0, Graphs.countPrefix(opt, "FusedBatchNorm"));
    assertEquals(54, ctx.count(BatchNormFoldingPass.NAME, "folded_into_weights"), ctx.counts(BatchNormFoldingPass.NAME).toString());
    GraphDef piped = Optimizer.defaultPipeline().run(m.graph(), context(m)).graph();
    assertEquals(0, Graphs.countPrefix(piped, "FusedBatchNorm"));
    for (var n : piped.getNodeList()) {
      if (n.getOp().equals("Identity")) {
        assertTrue(m.outputs().contains(n.getName() + ":0"), "Identity " + n.getName() + " is not a designated output");
      }
    }
  }

  @Test
  void batchNormFoldingRemovesEveryFusedBatchNormInDsCnn() {
    Model m = model("ds_cnn_s");
    assertEquals(9, Graphs.countPrefix(m.graph(), "FusedBatchNorm"));
    PassContext ctx = context(m);
    GraphDef opt = new BatchNormFoldingPass().apply(m.graph(), ctx);
    assertEquals(0, Graphs.countPrefix(opt, "FusedBatchNorm"));
    assertEquals(9, ctx.count(BatchNormFoldingPass.NAME, "folded_into_weights"), ctx.counts(BatchNormFoldingPass.NAME).toString());
    assertEquals(Graphs.count(m.graph(), "BiasAdd"), Graphs.count(opt, "BiasAdd"),
        "each folded conv keeps exactly one BiasAdd");
  }

  @Test
  void pipelineFoldsBothBatchNormFormsInCnnS() {
    Model m = model("cnn_s");
    PassContext ctx = context(m);
    GraphDef opt = Optimizer.defaultPipeline().run(m.graph(), ctx).graph();
    assertEquals(0, Graphs.countPrefix(opt, "FusedBatchNorm"));
    assertEquals(2, ctx.count(BatchNormFoldingPass.NAME, "folded_into_weights"), ctx.counts(BatchNormFoldingPass.NAME).toString());
    assertEquals(1, ctx.count(BatchNormFoldingPass.NAME, "unfolded_into_weights"), ctx.counts(BatchNormFoldingPass.NAME).toString());
    assertEquals(0, Graphs.count(opt, "Rsqrt"));
  }

  @Test
  void removingAssertionsKeepsDeeplabOutputs() {
    Model m = model("deeplab");
    PassContext ctx = context(m).removeAssertions(true);
    Optimizer.Result res = Optimizer.defaultPipeline().run(m.graph(), ctx);
    assertEquals(0, Graphs.count(res.graph(), "Assert"));
    report.add("deeplab (assertions removed) " + res.summary());
    assertOutputsKept(m, res.graph(), "pipeline without assertions");
  }

  @AfterAll
  static void print() {
    report.forEach(System.out::println);
  }
}
