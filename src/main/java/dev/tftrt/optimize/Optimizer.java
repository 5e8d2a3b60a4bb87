package dev.tftrt.optimize;

import dev.tftrt.TftrtException;
import dev.tftrt.model.Colocation;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/** Runs passes in order over a frozen graph and says what each one did. */
public final class Optimizer {
  private final List<GraphPass> passes;

  public Optimizer(List<GraphPass> passes) {
    this.passes = List.copyOf(passes);
  }

  /**
   * Identity/NoOp removal (exposes constants behind read Identities), constant folding and
   * removal of Asserts it proved true, repeated until nothing more folds, then BatchNorm folding.
   */
  public static Optimizer defaultPipeline() {
    return new Optimizer(defaultPasses());
  }

  public static List<GraphPass> defaultPasses() {
    return List.of(new RemoveIdentityPass(),
        new UntilStablePass(8, new ConstantFoldingPass(), new ProvenAssertPass()),
        new BatchNormFoldingPass());
  }

  public List<GraphPass> passes() {
    return passes;
  }

  /** What one pass did: node counts around it, its counters, and how long it took. */
  public record PassRun(String name, int nodesBefore, int nodesAfter, Map<String, Long> counts,
      long millis) {
    @Override
    public String toString() {
      return name + ": " + nodesBefore + " -> " + nodesAfter + " nodes " + counts + " (" + millis + " ms)";
    }
  }

  public record Result(GraphDef graph, int nodesBefore, List<PassRun> runs) {
    public int nodesAfter() {
      return graph.getNodeCount();
    }

    /** The run of the pass with that name, or null. */
    public PassRun run(String pass) {
      for (PassRun r : runs) if (r.name().equals(pass)) return r;
      return null;
    }

    public String summary() {
      StringBuilder b = new StringBuilder("optimized " + nodesBefore + " -> " + nodesAfter() + " nodes");
      for (PassRun r : runs) b.append("\n  ").append(r);
      return b.toString();
    }
  }

  public Result run(GraphDef g, PassContext ctx) {
    checkProtected(g, ctx);
    List<PassRun> runs = new ArrayList<>();
    GraphDef cur = g;
    for (GraphPass p : passes) {
      long t0 = System.nanoTime();
      int before = cur.getNodeCount();
      // A pass that removes nodes may leave colocation constraints naming them.
      cur = Colocation.keepTrue(p.apply(cur, ctx));
      runs.add(new PassRun(p.name(), before, cur.getNodeCount(), ctx.counts(p.name()),
          (System.nanoTime() - t0) / 1_000_000));
    }
    return new Result(cur, g.getNodeCount(), runs);
  }

  /** Every designated input and output names a node of the graph. */
  static void checkProtected(GraphDef g, PassContext ctx) {
    Set<String> names = new HashSet<>();
    for (NodeDef n : g.getNodeList()) names.add(n.getName());
    for (String in : ctx.inputs()) {
      if (!names.contains(in)) throw new TftrtException("input node '" + in + "' is not in the graph to optimize.");
    }
    for (String out : ctx.outputs()) {
      if (!names.contains(out)) throw new TftrtException("output node '" + out + "' is not in the graph to optimize.");
    }
  }
}
