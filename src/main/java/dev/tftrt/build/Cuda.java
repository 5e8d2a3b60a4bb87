package dev.tftrt.build;

import org.bytedeco.cuda.global.cudart;

/** CUDA return codes turned into exceptions that say what failed (GPU code only). */
public final class Cuda {
  private Cuda() {}

  /** Throws IllegalStateException naming {@code what} unless {@code rc} is cudaSuccess. */
  public static void check(int rc, String what) {
    if (rc != cudart.cudaSuccess) {
      throw new IllegalStateException(what + " failed: " + CudaProbe.error(rc));
    }
  }

  /** Device memory in use now (total - free), in bytes: what the load/close test watches. */
  public static long deviceMemoryUsed() {
    org.bytedeco.javacpp.SizeTPointer free = new org.bytedeco.javacpp.SizeTPointer(1);
    org.bytedeco.javacpp.SizeTPointer total = new org.bytedeco.javacpp.SizeTPointer(1);
    try {
      check(cudart.cudaMemGetInfo(free, total), "cudaMemGetInfo");
      return total.get() - free.get();
    } finally {
      free.close();
      total.close();
    }
  }
}
