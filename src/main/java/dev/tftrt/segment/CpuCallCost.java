package dev.tftrt.segment;

import dev.tftrt.convert.TfGraph;
import dev.tftrt.graph.TensorInfo;
import dev.tftrt.model.TensorNames;
import java.util.Collection;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/**
 * Whether an engine inside a while loop pays for its call on a CPU backend (onnxruntime,
 * tensorflow). Such an engine runs once per iteration and computes no faster than TensorFlow's
 * own CPU kernels on the same ops: what it saves is TensorFlow's dispatch of each op it
 * replaces, what it costs is one engine call. So a cluster in a loop becomes an engine when its
 * ops' dispatch adds up to a call, or when its compute is so large that a call is a small part
 * of it. On TensorRT an engine in a loop still wins (the GPU computes), so the rule is not
 * applied there.
 *
 * <p>The constants are measured ({@code EngineCallCostBenchmark}, 2-core machine, 2026-12-02):
 * one engine call on the onnxruntime backend costs about 25 µs through Java (ONNX Runtime's
 * {@code session.run} of a few element-wise ops alone is 20-24 µs, the engine op and its Java
 * side 2-3 µs), one small TensorFlow op in a loop about 1 µs. With the kernel's native runner
 * an in-loop call costs about 12 µs inside the model (the LSTM's 147 loop-engine calls add 1.8
 * ms to a 1.1 ms model call): still ten small ops' worth, so the rule stands as it is.
 */
final class CpuCallCost {
  /** One engine call on a CPU backend, in microseconds. */
  static final double CALL_MICROS = 25;
  /** TensorFlow's cost of running one small op in a loop frame, in microseconds. */
  static final double TF_OP_MICROS = 1;
  /** FLOPs above which a call's cost is under 5% of the compute (at about 10 GFLOP/s per core). */
  static final double LARGE_FLOPS = CALL_MICROS * 20 * 10_000;

  private static final Set<String> MATMULS = Set.of("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3");
  private static final Set<String> CONVS = Set.of("Conv2D", "DepthwiseConv2dNative", "Conv3D", "Conv2DBackpropInput");

  private CpuCallCost() {}

  /**
   * One engine call outside a loop on the onnxruntime backend with the kernel's native runner,
   * in microseconds: ONNX Runtime's run of a 3-op engine inside the LSTM model, measured under
   * 4 threads on 2 cores ({@code ConcurrentEnginesBenchmark}, 2026-12-02: 10-15 µs).
   */
  static final double ONCE_CALL_MICROS = 12;
  /** FLOPs above which such a call is under 5% of the compute (at about 10 GFLOP/s per core). */
  static final double ONCE_LARGE_FLOPS = ONCE_CALL_MICROS * 20 * 10_000;

  /**
   * Null when a cluster outside any loop pays for its one call per model call, or when that is
   * not known; else the sentence saying why it stays in TensorFlow. Known means every tensor
   * the cluster reads, inside it or from outside, and every first output of its nodes, has a
   * fully known shape, so the estimate is the cluster's work on every call: with an unknown
   * dimension (a batch, or a size computed from values, as a Tile's or a Range's) the work may
   * be any size, and the engine stays.
   */
  static String tooSmallOnce(TfGraph graph, Collection<String> cluster, int work) {
    for (String n : cluster) {
      TensorInfo out = graph.infos().contains(n + ":0") ? graph.info(n + ":0") : null;
      if (out != null && !out.isFullyKnown()) return null;
      for (String in : graph.node(n).getInputList()) {
        if (TensorNames.isControl(in)) continue;
        TensorInfo t = graph.info(TensorNames.canonical(in));
        if (t == null || !t.isFullyKnown()) return null;
      }
    }
    double flops = flops(graph, cluster);
    if (pays(work, flops, ONCE_CALL_MICROS, ONCE_LARGE_FLOPS)) return null;
    return String.format(java.util.Locale.ROOT, Segmenter.ONCE_TOO_SMALL + ": on its fixed "
        + "shapes its %d op(s) (%.0f FLOPs) cost TensorFlow less than one engine call (about "
        + "%.0f µs; an engine needs %.0f ops or %.0f FLOPs).", work, flops, ONCE_CALL_MICROS,
        ONCE_CALL_MICROS / TF_OP_MICROS, ONCE_LARGE_FLOPS);
  }

  /** Null when the cluster pays for its call; else the sentence saying why it stays in TensorFlow. */
  static String tooSmall(TfGraph graph, Collection<String> cluster, int work) {
    double flops = flops(graph, cluster);
    if (pays(work, flops, CALL_MICROS, LARGE_FLOPS)) return null;
    return String.format(java.util.Locale.ROOT, Segmenter.IN_LOOP_TOO_SMALL + ": its engine "
        + "would run once per iteration, and its %d op(s) (%.0f FLOPs) cost TensorFlow less than "
        + "the call (about %.0f µs; an engine needs %.0f ops or %.0f FLOPs).", work, flops,
        CALL_MICROS, CALL_MICROS / TF_OP_MICROS, LARGE_FLOPS);
  }

  /** Whether the dispatch of work ops saves a call's cost, or the call is small beside the compute. */
  private static boolean pays(int work, double flops, double callMicros, double largeFlops) {
    return work * TF_OP_MICROS >= callMicros || flops >= largeFlops;
  }

  private static double flops(TfGraph graph, Collection<String> cluster) {
    double flops = 0;
    for (String n : cluster) flops += flops(graph, graph.node(n));
    return flops;
  }

  /**
   * A rough FLOPs estimate from static shapes (an unknown dimension counts as 1). Inside a loop
   * the loop-carried values' shapes are often unknown to TensorFlow's inference while the
   * weights' are not, so the estimate errs low: towards leaving the cluster in TensorFlow.
   */
  static double flops(TfGraph graph, NodeDef n) {
    double out = elements(graph, n.getName() + ":0");
    if (MATMULS.contains(n.getOp()) && n.getInputCount() >= 2) {
      // The inner dimension, from whichever operand's shape is known (in a loop, often the weights only).
      long k = inner(graph.info(n.getInput(0)), flag(n, "transpose_a") || flag(n, "adj_x") ? 2 : 1);
      if (k < 1) k = inner(graph.info(n.getInput(1)), flag(n, "transpose_b") || flag(n, "adj_y") ? 1 : 2);
      return 2 * out * Math.max(1, k);
    }
    if (CONVS.contains(n.getOp()) && n.getInputCount() >= 2) {
      TensorInfo w = graph.info(n.getInput(1));
      double window = 1;
      if (w != null && w.hasRank()) {
        for (int i = 0; i < w.rank() - 1; i++) window *= Math.max(1, w.dim(i));
      }
      return 2 * out * window;
    }
    return out;
  }

  /** Dimension rank-fromEnd of t, or -1 when not known. */
  private static long inner(TensorInfo t, int fromEnd) {
    return t == null || !t.hasRank() || t.rank() < 2 ? -1 : t.dim(t.rank() - fromEnd);
  }

  private static boolean flag(NodeDef n, String attr) {
    return n.containsAttr(attr) && n.getAttrOrThrow(attr).getB();
  }

  private static double elements(TfGraph graph, String tensor) {
    TensorInfo t = graph.info(tensor);
    if (t == null || !t.hasRank()) return 1;
    double e = 1;
    for (int i = 0; i < t.rank(); i++) e *= Math.max(1, t.dim(i));
    return e;
  }
}
