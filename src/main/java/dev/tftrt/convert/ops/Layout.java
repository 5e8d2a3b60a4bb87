package dev.tftrt.convert.ops;

import dev.tftrt.convert.OnnxEmitter;

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

  static boolean channelsLast(String dataFormat) {
    return dataFormat.equals("NHWC") || dataFormat.equals("NDHWC") || dataFormat.equals("NWC");
  }
}
