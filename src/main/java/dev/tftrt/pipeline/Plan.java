package dev.tftrt.pipeline;

import dev.tftrt.convert.ops.StandardConverters;
import dev.tftrt.convert.ConverterBug;
import dev.tftrt.convert.ConverterRegistry;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.graph.TensorInfoTable;
import dev.tftrt.convert.TfGraph;
import dev.tftrt.freeze.FreezeResult;
import dev.tftrt.freeze.Freezer;
import dev.tftrt.model.TensorNames;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.model.TfModel;
import dev.tftrt.optimize.Optimizer;
import dev.tftrt.optimize.PassContext;
import dev.tftrt.segment.Segment;
import dev.tftrt.segment.SegmentPlan;
import dev.tftrt.segment.Segmenter;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * The first half of a conversion, shared by `inspect` and `convert`: freeze (in memory), fix
 * the input shapes the user gave, optimize, and segment. Everything a report needs is here,
 * including the nodes left in TensorFlow because their converter's check threw (node → bug).
 */
public record Plan(FreezeResult frozen, Optimizer.Result optimized, TfGraph graph,
    SegmentPlan segments, Map<String, ConverterBug> converterBugs) {

  /** Ops whose work dominates a network: the share of them inside engines is what matters. */
  public static final Set<String> COMPUTE_HEAVY = Set.of("Conv2D", "Conv3D", "DepthwiseConv2dNative",
      "Conv2DBackpropInput", "MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3", "Einsum");

  public static Plan make(TfModel model, Map<String, long[]> shapes, Segmenter.Options options) {
    return make(model, shapes, options, StandardConverters.registry(), OnnxExporter.DEFAULT_OPSET);
  }

  /**
   * As above, converting with registry at opset. Each segment's ONNX is loaded into ONNX
   * Runtime as it is made; nodes whose ONNX it refuses are left in TensorFlow with the runtime's
   * reason, and the graph is segmented again without them until every segment loads.
   */
  public static Plan make(TfModel model, Map<String, long[]> shapes, Segmenter.Options options,
      ConverterRegistry registry, int opset) {
    FreezeResult frozen = Freezer.freeze(model);
    GraphDef g = Freezer.withInputShapes(frozen.graph(), frozen.inputs(), shapes);
    if (!shapes.isEmpty()) dev.tftrt.model.GraphChecks.checkAtShapes(g, model.path() + " at the input shapes given");
    PassContext ctx = PassContext.of(tensors(frozen.inputs()), tensors(frozen.outputs()));
    Optimizer.Result opt = Optimizer.defaultPipeline().run(g, ctx);
    TfGraph graph = new TfGraph(opt.graph(), TensorInfoTable.of(opt.graph()));
    Set<String> inputs = frozen.inputs().stream().map(s -> TensorNames.node(s.tensor())).collect(Collectors.toSet());
    Set<String> outputs = frozen.outputs().stream().map(s -> TensorNames.canonical(s.tensor())).collect(Collectors.toSet());
    Map<String, String> refused = new LinkedHashMap<>();
    Map<String, ConverterBug> bugs = new LinkedHashMap<>();
    Function<NodeView, Optional<String>> validator = v -> {
      if (refused.containsKey(v.name())) return Optional.of(refused.get(v.name()));
      ConverterRegistry.Check check = registry.check(v);
      check.converterBug().ifPresent(b -> bugs.put(v.name(), b));
      return check.reason();
    };
    RuntimeValidation runtime = new RuntimeValidation(graph, registry, opset);
    while (true) {
      SegmentPlan plan = new Segmenter(validator, options).segment(graph, inputs, outputs);
      Map<String, String> now = new LinkedHashMap<>();
      for (Segment s : plan.segments()) now.putAll(runtime.rejected(s));
      if (now.isEmpty()) return new Plan(frozen, opt, graph, plan, Map.copyOf(bugs));
      refused.putAll(now); // each round removes at least one candidate, so this ends
    }
  }

  static List<String> tensors(List<TensorSpec> specs) {
    return specs.stream().map(TensorSpec::tensor).toList();
  }

  /** Nodes by op type, in the optimized graph. */
  public Map<String, Integer> opCounts() {
    Map<String, Integer> m = new TreeMap<>();
    for (NodeDef n : graph.nodes()) m.merge(n.getOp(), 1, Integer::sum);
    return m;
  }

  /** Of the compute-heavy nodes, how many run inside an engine. */
  public int[] computeHeavyInEngines() {
    Map<String, Boolean> inEngine = new HashMap<>();
    for (Segment s : segments.segments()) for (String n : s.nodes()) inEngine.put(n, true);
    int total = 0;
    int inside = 0;
    for (NodeDef n : graph.nodes()) {
      if (COMPUTE_HEAVY.contains(n.getOp())) {
        total++;
        if (inEngine.containsKey(n.getName())) inside++;
      }
    }
    return new int[] {inside, total};
  }

  /**
   * Nodes that do work in TensorFlow after conversion: those no converter takes, and those in
   * convertible clusters too small (or too many) to become engines. Inputs and constants aside.
   */
  public int nodesLeftInTensorFlow() {
    int n = segments.rejected().size();
    for (List<String> c : segments.droppedClusters()) n += c.size();
    return n;
  }

  /** Unsupported nodes grouped by reason: one line per reason with the nodes it applies to. */
  public Map<String, List<String>> unsupportedByReason() {
    Map<String, List<String>> m = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : segments.rejected().entrySet()) {
      String op = graph.node(e.getKey()).getOp();
      m.computeIfAbsent(op + ": " + e.getValue(), k -> new java.util.ArrayList<>()).add(e.getKey());
    }
    return m;
  }
}
