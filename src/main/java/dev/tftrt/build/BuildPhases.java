package dev.tftrt.build;

import java.util.List;
import java.util.Locale;

/**
 * The phases of a TensorRT build, recognised from its logger's messages: the preset cannot
 * implement {@code IProgressMonitor} in Java (only {@code ILogger} is subclassable), so the log
 * is the only progress signal. The patterns are the phrases TensorRT's builder prints at INFO
 * and VERBOSE; a message that matches none leaves the phase as it was, so a reworded message
 * costs a phase label, never a build.
 */
public final class BuildPhases {
  /** The phases in build order; {@link #index} gives a message's phase. */
  public static final List<String> PHASES = List.of(
      "parsing ONNX", "initialising CUDA", "optimising the graph", "timing tactics",
      "assigning memory", "generating the engine", "serialising");

  private BuildPhases() {}

  /** The index in {@link #PHASES} that {@code message} announces, or -1 for none. */
  public static int index(String message) {
    if (message == null) return -1;
    String m = message.toLowerCase(Locale.ROOT);
    if (m.contains("onnx ir version") || m.contains("parsing of onnx") || m.contains("input filename")) return 0;
    if (m.contains("init cuda") || m.contains("init builder kernel library")) return 1;
    if (m.contains("graph optimization") || m.contains("graphreduction") || m.contains("original:")
        || m.contains("after dead-layer removal") || m.contains("applying generic optimizations")) {
      return 2;
    }
    if (m.contains("autotuning") || m.contains("timing cache in use") || m.contains("computing costs")
        || m.contains("tactic:") || m.contains("timing runner")) {
      return 3;
    }
    if (m.contains("blockassignment") || m.contains("total activation memory")
        || m.contains("detected") && m.contains("network tensors")) {
      return 4;
    }
    if (m.contains("total host persistent memory") || m.contains("engine generation completed")
        || m.contains("total device persistent memory")) {
      return 5;
    }
    if (m.contains("serializ")) return 6;
    return -1;
  }

  /** Whether {@code message} reports one tactic timed (a step within "timing tactics"). */
  public static boolean isTacticTimed(String message) {
    if (message == null) return false;
    String m = message.toLowerCase(Locale.ROOT);
    return m.contains("tactic:") && m.contains("time");
  }
}
