package dev.tftrt.pipeline;

import dev.tftrt.convert.ConverterBug;
import dev.tftrt.optimize.Optimizer;
import dev.tftrt.segment.Segment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A plan as data (for report.json and `inspect --json`) and as text (for report.md and the
 * terminal). Built from a {@link Plan}; holds plain maps and lists so JSON is direct.
 */
public final class PlanReport {
  private PlanReport() {}

  public static Map<String, Object> of(String model, Plan p) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("model", model);
    r.put("nodesFrozen", p.frozen().graph().getNodeCount());
    r.put("nodesOptimized", p.optimized().nodesAfter());
    List<Map<String, Object>> passes = new ArrayList<>();
    for (Optimizer.PassRun run : p.optimized().runs()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("pass", run.name());
      m.put("nodesBefore", run.nodesBefore());
      m.put("nodesAfter", run.nodesAfter());
      m.put("counts", run.counts());
      passes.add(m);
    }
    r.put("optimizer", passes);
    r.put("opCounts", p.opCounts());
    List<Map<String, Object>> segs = new ArrayList<>();
    for (Segment s : p.segments().segments()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("engine", s.name());
      m.put("size", s.size());
      m.put("nodes", s.nodes().size());
      Map<String, Integer> ops = new TreeMap<>();
      for (String n : s.nodes()) ops.merge(p.graph().node(n).getOp(), 1, Integer::sum);
      m.put("ops", ops);
      m.put("inputs", s.inputs());
      m.put("outputs", s.outputs());
      segs.add(m);
    }
    r.put("segments", segs);
    List<Map<String, Object>> bad = new ArrayList<>();
    for (Map.Entry<String, String> e : p.segments().rejected().entrySet()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("node", e.getKey());
      m.put("op", p.graph().node(e.getKey()).getOp());
      m.put("reason", e.getValue());
      bad.add(m);
    }
    r.put("unsupported", bad);
    List<Map<String, Object>> bugs = new ArrayList<>();
    for (ConverterBug bug : bugs(p)) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("node", bug.node());
      m.put("op", bug.op());
      m.put("converter", bug.converter());
      m.put("error", bug.error());
      bugs.add(m);
    }
    r.put("converterBugs", bugs);
    r.put("smallClustersLeftInTensorFlow", p.segments().droppedClusters().size());
    int[] heavy = p.computeHeavyInEngines();
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("inEngines", heavy[0]);
    h.put("total", heavy[1]);
    r.put("computeHeavyOps", h);
    return r;
  }

  /** The converter bugs of the nodes left in TensorFlow, in graph order. */
  private static List<ConverterBug> bugs(Plan p) {
    List<ConverterBug> list = new ArrayList<>();
    for (String node : p.segments().rejected().keySet()) {
      ConverterBug bug = p.converterBugs().get(node);
      if (bug != null) list.add(bug);
    }
    return list;
  }

  /** The same plan as Markdown: what a person reads in report.md or on the terminal. */
  public static String markdown(String model, Plan p) {
    StringBuilder b = new StringBuilder();
    b.append("# tftrt plan for ").append(model).append("\n\n");
    b.append("Nodes: ").append(p.frozen().graph().getNodeCount()).append(" frozen, ")
        .append(p.optimized().nodesAfter()).append(" after optimizing.\n\n");
    for (Optimizer.PassRun run : p.optimized().runs()) {
      b.append("- ").append(run.name()).append(": ").append(run.nodesBefore()).append(" → ")
          .append(run.nodesAfter()).append(" nodes ").append(run.counts()).append('\n');
    }
    int[] heavy = p.computeHeavyInEngines();
    b.append("\n## Engines: ").append(p.segments().segments().size()).append("\n\n");
    b.append("Compute-heavy ops (conv, matmul) inside engines: ").append(heavy[0]).append(" of ")
        .append(heavy[1]).append(".\n\n");
    for (Segment s : p.segments().segments()) {
      b.append("- **").append(s.name()).append("**: ").append(s.size()).append(" ops (")
          .append(s.nodes().size()).append(" nodes with constants); inputs ")
          .append(String.join(", ", s.inputs())).append("; outputs ")
          .append(String.join(", ", s.outputs())).append('\n');
    }
    if (!p.segments().droppedClusters().isEmpty()) {
      b.append("\n").append(p.segments().droppedClusters().size())
          .append(" convertible cluster(s) stay in TensorFlow: below --min-segment-size or beyond --max-engines.\n");
    }
    List<ConverterBug> bugs = bugs(p);
    if (!bugs.isEmpty()) {
      b.append("\n## Converter bugs: ").append(bugs.size()).append(" nodes\n\n")
          .append("A converter failed while checking these nodes: a bug in tftrt, not in the model."
              + " They stay in TensorFlow; please report them.\n\n");
      for (ConverterBug bug : bugs) {
        b.append("- ").append(bug.node()).append(" (").append(bug.op()).append("): ")
            .append(bug.converter()).append(" threw ").append(bug.error()).append('\n');
      }
    }
    Map<String, List<String>> bad = p.unsupportedByReason();
    b.append("\n## Left in TensorFlow: ").append(p.segments().rejected().size()).append(" nodes\n\n");
    for (Map.Entry<String, List<String>> e : bad.entrySet()) {
      List<String> nodes = e.getValue();
      b.append("- ").append(e.getKey()).append(" — ").append(nodes.size()).append(" node(s): ")
          .append(String.join(", ", nodes.subList(0, Math.min(5, nodes.size()))))
          .append(nodes.size() > 5 ? ", …" : "").append('\n');
    }
    b.append("\n## Ops\n\n| op | count |\n|---|---|\n");
    for (Map.Entry<String, Integer> e : p.opCounts().entrySet()) {
      b.append("| ").append(e.getKey()).append(" | ").append(e.getValue()).append(" |\n");
    }
    return b.toString();
  }
}
