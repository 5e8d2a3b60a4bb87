package dev.tftrt.gpu;

import dev.tftrt.build.GpuDetection;
import dev.tftrt.build.GpuInfo;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** The precondition of every {@code @Tag("gpu")} test: skipped, with the reason, where it does not hold. */
final class GpuTests {
  private GpuTests() {}

  /** Aborts (skips) unless nvidia-smi lists a GPU and TensorRT is usable from this JVM. */
  static GpuInfo assumeGpu() {
    Assumptions.assumeTrue(nvidiaSmiFindsGpu(), "skipped: nvidia-smi finds no NVIDIA GPU on this machine");
    GpuInfo g = GpuDetection.detect();
    Assumptions.assumeTrue(g.usable(), () -> "skipped: " + g.problem());
    return g;
  }

  static boolean nvidiaSmiFindsGpu() {
    try {
      Process p = new ProcessBuilder("nvidia-smi", "-L").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      return p.exitValue() == 0 && out.contains("GPU ");
    } catch (java.io.IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
