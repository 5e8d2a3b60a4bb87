package dev.tftrt.util;

import dev.tftrt.TftrtException;
import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * Sizes of tensors computed in long and weighed against memory before anything is allocated, so
 * a huge shape is one sentence instead of an int overflow, an OutOfMemoryError, or minutes of
 * TensorFlow trying.
 */
public final class Memory {
  private Memory() {}

  /** Java arrays and heap buffers are int-indexed; a little headroom as the JDK keeps. */
  public static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

  /** Elements of a fully known shape, or -1 when the product does not fit in a long. */
  public static long elements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) throw new IllegalArgumentException("unknown dimension in " + Arrays.toString(shape));
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        return -1;
      }
    }
    return n;
  }

  /** Bytes of elements of itemSize, or -1 when the product does not fit in a long. */
  public static long bytes(long elements, long itemSize) {
    if (elements < 0) return -1;
    try {
      return Math.multiplyExact(elements, itemSize);
    } catch (ArithmeticException e) {
      return -1;
    }
  }

  /** The machine's physical memory: what TensorFlow's native allocations can hope to get. */
  public static long physical() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) return sun.getTotalMemorySize();
    return Long.MAX_VALUE;
  }

  /** Heap the JVM can still give: its maximum minus what is in use. */
  public static long heapAvailable() {
    Runtime rt = Runtime.getRuntime();
    return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
  }

  /** Whether bytes fit in the free heap; garbage counts as used until collected, so collect once before saying no. */
  public static boolean fitsInHeap(long bytes) {
    if (bytes <= heapAvailable()) return true;
    System.gc();
    return bytes <= heapAvailable();
  }

  /**
   * Refuses a tensor to be built in Java memory (a feed, a .npy) that cannot be: over the
   * int-indexed limit of one buffer or over the heap still available.
   *
   * @param what names it in the sentence, e.g. "input 'X' of shape [100000000, 784] (float32)"
   * @param bytes its size, -1 when that does not even fit in a long
   */
  public static void checkJavaBuffer(String what, long bytes) {
    if (bytes < 0) throw new TftrtException(what + " would be larger than any memory can hold.");
    if (bytes > MAX_ARRAY) {
      throw new TftrtException(what + " would take " + human(bytes)
          + ", more than tftrt holds in one tensor (2 GB).");
    }
    if (!fitsInHeap(bytes)) {
      throw new TftrtException(what + " would take " + human(bytes) + ", more than the "
          + human(heapAvailable()) + " of memory tftrt has free (raise it with -Xmx in TFTRT_JAVA_OPTS).");
    }
  }

  /** "3.9 GB", "512 KB": sizes for people. */
  public static String human(long bytes) {
    if (bytes < 1024) return bytes + " bytes";
    String[] units = {"KB", "MB", "GB", "TB", "PB", "EB"};
    double v = bytes;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(java.util.Locale.ROOT, v >= 100 ? "%.0f %s" : "%.1f %s", v, units[u]);
  }
}
