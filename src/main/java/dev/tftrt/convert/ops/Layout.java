package dev.tftrt.convert.ops;

import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxEmitter;
import dev.tftrt.graph.TensorInfo;
import java.util.Optional;

/**
 * TensorFlow's channels-last layouts to ONNX's channels-first and back. Converters wrap NCHW
 * ONNX ops in these transposes; the transpose passes remove the pairs that meet.
 */
final class Layout {
  private Layout() {}

  /** Channels-last to channels-first permutation for a given rank: [0, r-1, 1, ..., r-2]. */
  static long[] toFirst(int rank) {
    long[] p = new long[rank];
    p[1] = rank - 1;
    for (int i = 2; i < rank; i++) p[i] = i - 1;
    return p;
  }

  /** Channels-first to channels-last: [0, 2, ..., r-1, 1]. */
  static long[] toLast(int rank) {
    long[] p = new long[rank];
    for (int i = 1; i < rank - 1; i++) p[i] = i + 1;
    p[rank - 1] = 1;
    return p;
  }

  static String nchw(OnnxEmitter out, String x, int rank) {
    return out.node("Transpose").in(x).attr("perm", toFirst(rank)).emit();
  }

  /** Transposes an NCHW value back to NHWC, writing to y. */
  static void nhwc(OnnxEmitter out, String x, int rank, String y) {
    out.node("Transpose").in(x).attr("perm", toLast(rank)).out(y).emit();
  }

  /**
   * Why a windowed op (conv, pool) over sp spatial dims cannot convert, as far as layout goes:
   * not channels-last, or an input of the wrong rank. Empty when it can.
   */
  static Optional<String> checkChannelsLastInput(NodeView n, int sp) {
    int rank = sp + 2;
    String fmt = n.attrString("data_format", sp == 3 ? "NDHWC" : "NHWC");
    if (!channelsLast(fmt)) return Optional.of("data_format " + fmt + " is not supported; only channels-last is.");
    TensorInfo in = n.inputInfo(0);
    if (in.hasRank() && in.rank() != rank) return Optional.of("its input has rank " + in.rank() + ", not " + rank + ".");
    return Optional.empty();
  }

  static boolean channelsLast(String dataFormat) {
    return dataFormat.equals("NHWC") || dataFormat.equals("NDHWC") || dataFormat.equals("NWC");
  }
}
