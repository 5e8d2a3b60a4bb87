package dev.tftrt.optimize;

import java.util.List;
import org.tensorflow.proto.GraphDef;

/**
 * Runs a pass again while it still changes the graph (at most a few times). Folding needs this:
 * once a computed size becomes a constant, TensorFlow's shape inference knows the shapes after
 * it, and the Shape ops reading them can fold in turn (DeepLab's pad-to-513 preprocessing).
 */
public final class UntilStablePass implements GraphPass {
  private final List<GraphPass> passes;
  private final int maxRounds;

  /** Runs the passes in order, round after round, until a round changes nothing. */
  public UntilStablePass(int maxRounds, GraphPass... passes) {
    this.passes = List.of(passes);
    this.maxRounds = maxRounds;
  }

  @Override
  public String name() {
    return passes.get(0).name();
  }

  @Override
  public GraphDef apply(GraphDef g, PassContext ctx) {
    GraphDef cur = g;
    for (int i = 0; i < maxRounds; i++) {
      GraphDef next = cur;
      for (GraphPass p : passes) next = p.apply(next, ctx);
      if (next.equals(cur)) break;
      cur = next;
    }
    // Reports list this as one pass: the others' counts are added under its name.
    for (GraphPass p : passes.subList(1, passes.size())) {
      ctx.counts(p.name()).forEach((what, n) -> ctx.count(name(), p.name() + "." + what, n));
    }
    return cur;
  }
}
