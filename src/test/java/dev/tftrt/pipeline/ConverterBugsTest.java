package dev.tftrt.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.convert.BaseConverter;
import dev.tftrt.convert.ConverterRegistry;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.convert.OpConverter;
import dev.tftrt.convert.Rand;
import dev.tftrt.convert.Signature;
import dev.tftrt.convert.TfBuilder;
import dev.tftrt.convert.ops.Activations;
import dev.tftrt.convert.ops.StandardConverters;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.model.TfModel;
import dev.tftrt.segment.Segment;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.testing.LogCapture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Output;
import org.tensorflow.proto.DataType;

/**
 * A converter whose check throws is a bug in that converter, not an unsupported node: the node
 * stays in TensorFlow, the rest converts, and the bug is counted, logged once per op type and
 * listed as such in the report.
 */
class ConverterBugsTest {
  private static final DataType F32 = DataType.DT_FLOAT;
  @TempDir Path tmp;

  /** Softsign whose check throws, as a converter with a bug would. */
  static final class ThrowingSoftsign extends BaseConverter {
    ThrowingSoftsign() {
      register(Signature.builder().tensor("features").types("T", F32).build(), "Softsign");
    }

    @Override
    protected Optional<String> check(NodeView n) {
      throw new IllegalStateException("no rule for " + n.name());
    }

    @Override
    public void convert(NodeView n, OnnxEmitter out) {
      throw new AssertionError("a node whose check threw is never converted");
    }
  }

  private static ConverterRegistry throwing() {
    List<OpConverter> list = new ArrayList<>();
    for (OpConverter c : StandardConverters.all()) if (!(c instanceof Activations)) list.add(c);
    list.add(new ThrowingSoftsign());
    return new ConverterRegistry(list);
  }

  /** MatMul, BiasAdd, two Softsigns, MatMul, BiasAdd, Softmax. */
  private Path mlp() throws Exception {
    Rand rand = new Rand(3);
    try (TfBuilder b = new TfBuilder()) {
      Output<?> x = b.placeholder("x", F32, -1, 6);
      Output<?> h = b.op("MatMul").in(x, b.constant(rand.floats(6, 5))).attr("T", F32).out();
      h = b.op("BiasAdd").in(h, b.constant(rand.floats(5))).attr("T", F32).out();
      h = b.op("Softsign").name("softsign").in(h).attr("T", F32).out();
      h = b.op("Softsign").name("softsign_2").in(h).attr("T", F32).out();
      h = b.op("MatMul").in(h, b.constant(rand.floats(5, 3))).attr("T", F32).out();
      h = b.op("BiasAdd").in(h, b.constant(rand.floats(3))).attr("T", F32).out();
      b.op("Softmax").name("probs").in(h).attr("T", F32).build();
      Path p = tmp.resolve("mlp.pb");
      Files.write(p, b.graphDef().toByteArray());
      return p;
    }
  }

  @Test
  void aCheckThatThrowsIsReportedAsAConverterBugAndTheNodeStaysInTensorFlow() throws Exception {
    ConverterRegistry registry = throwing();
    Segmenter.Options one = new Segmenter.Options(1, Integer.MAX_VALUE, Set.of(), Set.of());
    try (TfModel model = TfModel.load(LoadOptions.of(mlp())); LogCapture log = LogCapture.of(ConverterRegistry.class, Level.ALL)) {
      Plan p = Plan.make(model, Map.of(), one, registry, OnnxExporter.DEFAULT_OPSET);

      for (String node : List.of("softsign", "softsign_2")) {
        String why = p.segments().rejected().get(node);
        assertEquals("the ThrowingSoftsign converter failed while checking it (java.lang.IllegalStateException:"
            + " no rule for " + node + "), a bug in tftrt, so it stays in TensorFlow.", why);
        for (Segment s : p.segments().segments()) assertTrue(!s.nodes().contains(node), node + " is in no engine");
      }
      assertEquals(2, p.segments().segments().size(), "the MatMuls on either side still convert");
      assertEquals(2, p.computeHeavyInEngines()[0]);

      assertEquals(Set.of("softsign", "softsign_2"), p.converterBugs().keySet());
      assertTrue(registry.bugCounts().get("Softsign") >= 2, "every check that threw is counted: " + registry.bugCounts());
      assertEquals(1, log.atLeast(Level.WARNING).size(), "logged once for the op type, not once per node or check");
      String logged = log.atLeast(Level.WARNING).get(0).getMessage();
      assertTrue(logged.contains("ThrowingSoftsign") && logged.contains("Softsign") && logged.contains("bug in tftrt"), logged);
      assertEquals(null, log.atLeast(Level.WARNING).get(0).getThrown(), "one line at WARNING: no stack trace without --verbose");
      assertEquals(1, log.below(Level.WARNING).size());
      assertEquals(Level.INFO, log.below(Level.WARNING).get(0).getLevel());
      assertTrue(log.below(Level.WARNING).get(0).getThrown() instanceof IllegalStateException, "the stack trace, for --verbose");

      // report.json and report.md (and inspect) list them as converter bugs.
      Map<String, Object> json = PlanReport.of("mlp.pb", p);
      assertEquals(List.of(
          Map.of("node", "softsign", "op", "Softsign", "converter", "ThrowingSoftsign",
              "error", "java.lang.IllegalStateException: no rule for softsign"),
          Map.of("node", "softsign_2", "op", "Softsign", "converter", "ThrowingSoftsign",
              "error", "java.lang.IllegalStateException: no rule for softsign_2")), json.get("converterBugs"));
      String md = PlanReport.markdown("mlp.pb", p);
      assertTrue(md.contains("## Converter bugs: 2 nodes"), md);
      assertTrue(md.contains("- softsign (Softsign): ThrowingSoftsign threw java.lang.IllegalStateException: no rule for softsign\n"), md);
    }
  }

  @Test
  void withTheStandardConvertersThereIsNoBugToReport() throws Exception {
    try (TfModel model = TfModel.load(LoadOptions.of(mlp())); LogCapture log = LogCapture.of(ConverterRegistry.class, Level.ALL)) {
      Plan p = Plan.make(model, Map.of(), Segmenter.Options.defaults());
      assertEquals(Map.of(), p.converterBugs());
      assertEquals(List.of(), PlanReport.of("mlp.pb", p).get("converterBugs"));
      assertTrue(!PlanReport.markdown("mlp.pb", p).contains("Converter bugs"));
      assertEquals(0, log.atLeast(Level.WARNING).size());
    }
  }
}
