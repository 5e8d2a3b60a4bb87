package dev.tftrt.convert.passes;

import dev.tftrt.convert.onnx.AttributeProto;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Moves Transpose nodes down through layout-agnostic ops and removes the pairs that meet, so
 * that a chain of converted NHWC layers (conv, batch norm, relu6, depthwise conv, residual add,
 * concat, pad...) runs in NCHW with no transposes between its layers.
 *
 * <p>Rules, applied from a worklist until nothing changes (each step moves a transpose later in
 * the graph or removes one, so it ends):
 * <ul>
 *   <li>Transpose(q) of Transpose(p) becomes one Transpose(p then q), or nothing when that is
 *       the identity. An identity Transpose that is a graph output hands the name to the
 *       producer of its input.
 *   <li>Transpose(q) of an Unsqueeze, when q keeps the unsqueezed value's own axes in order,
 *       is that Unsqueeze with other axes (NHWC [n,h,w,1] to NCHW [n,1,h,w]).
 *   <li>A Transpose(p) is moved below its readers (besides inverse transposes, cancelled first)
 *       when every one of them takes it; each then computes in the untransposed layout and a
 *       Transpose after it restores its output. An element-wise op takes it when each other
 *       input is a Transpose(p) too, or a constant (permuted at conversion time; lower-rank
 *       constants broadcast as NumPy aligns them), or a scalar, or a value that some other
 *       reader already transposes the inverse way (used as is), or the output of a reader
 *       planned before it in the same move. Ops that are element-wise up to axes take it with
 *       their axes remapped through p: Concat, Softmax/LogSoftmax, ArgMax/ArgMin and the
 *       Reduce ops (without keepdims the Transpose after them is the perm of the axes left,
 *       often the identity), Pad (pads permuted), Slice (axes input; implicit axes made
 *       explicit), Squeeze (axes), Unsqueeze (same axes; the perm moves around the new ones),
 *       and Resize (roi, scales and sizes permuted; linear and cubic only with constant scales
 *       whose resized axes stay in a layout runtimes take). What each op takes is its
 *       {@link PushRule} in {@code push/}; this class only moves the transposes.
 * </ul>
 * Copies made by moving below several readers can get stuck (before NHWC graph outputs, or
 * unsupported ops); {@link #apply} keeps such a move only where it leaves fewer transposes.
 * Graph inputs and outputs keep their names and layouts. O(n) per rule application in total:
 * producers and readers are indexed once and updated locally.
 *
 * <p>The pass holds no state of its own (each run's index is a {@code TransposePushRun}), so one
 * instance may rewrite several graphs at once from different threads.
 */
public final class TransposePushPass implements OnnxPass {
  private final boolean allowSeveral;

  public TransposePushPass() {
    this(true);
  }

  private TransposePushPass(boolean allowSeveral) {
    this.allowSeveral = allowSeveral;
  }

  /** The pass that pushes a transpose below a single reader only (for comparisons). */
  public static TransposePushPass singleReadersOnly() {
    return new TransposePushPass(false);
  }

  @Override
  public String name() {
    return "transpose-push";
  }

  /** Transpose nodes in a model (what the conversion report shows per segment). */
  public static int count(ModelProto model) {
    return count(model.getGraph());
  }

  public static int count(GraphProto graph) {
    int n = 0;
    for (NodeProto p : graph.getNodeList()) if (p.getOpType().equals("Transpose")) n++;
    return n;
  }

  private static final int MAX_RETRIES = 16;

  /**
   * Runs the rules. Pushing below several readers copies a transpose, and copies that get stuck
   * (before graph outputs, unsupported ops) can leave more than there were: each value where
   * that happened is then tried without it (a few runs at most), keeping what leaves fewer
   * transposes (then fewer nodes). Each run is its own {@code TransposePushRun}.
   */
  @Override
  public GraphProto apply(GraphProto graph) {
    Set<String> blocked = new HashSet<>();
    TransposePushRun first = new TransposePushRun(allowSeveral, blocked);
    GraphProto best = first.run(graph);
    if (!allowSeveral) return best;
    List<String> tries = first.pushedBelowSeveral();
    for (String y : tries.subList(0, Math.min(tries.size(), MAX_RETRIES))) {
      blocked.add(y);
      GraphProto g = new TransposePushRun(allowSeveral, blocked).run(graph);
      int c = count(g);
      int b = count(best);
      if (c < b || (c == b && g.getNodeCount() < best.getNodeCount())) best = g;
      else blocked.remove(y);
    }
    return best;
  }
}
