package dev.tftrt.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** The machine and software a benchmark ran on, for its header and its JSON. */
public record Machine(String os, String arch, String cpu, int cores, long maxHeapBytes, String java,
    String tftrt, String tensorflow, String onnxRuntime, boolean gpu, String gpuDescription, String noGpuReason) {

  public static Machine describe(GpuStatus gpu) {
    return new Machine(System.getProperty("os.name") + " " + System.getProperty("os.version"),
        System.getProperty("os.arch"), cpuModel(), Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory(), System.getProperty("java.vm.name") + " " + System.getProperty("java.version"),
        orUnknown(Machine.class.getPackage().getImplementationVersion(), "development build"),
        tensorFlowVersion(), onnxRuntimeVersion(), gpu.available(), gpu.description(), gpu.reason());
  }

  /** The header line saying where the figures come from. */
  public String header() {
    return gpu ? "GPU: " + gpuDescription : "CPU only: no GPU (" + noGpuReason + ")";
  }

  private static String cpuModel() {
    try {
      Path info = Path.of("/proc/cpuinfo");
      if (Files.isReadable(info)) {
        for (String line : Files.readAllLines(info)) {
          if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).strip();
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not Linux, or not readable: the architecture says enough
    }
    return System.getProperty("os.arch");
  }

  private static String tensorFlowVersion() {
    try {
      return org.tensorflow.TensorFlow.version();
    } catch (RuntimeException | LinkageError e) {
      return "unknown";
    }
  }

  private static String onnxRuntimeVersion() {
    try {
      return dev.tftrt.runtime.ort.Ort.environment().getVersion();
    } catch (RuntimeException | LinkageError e) {
      return "unknown";
    }
  }

  private static String orUnknown(String v, String otherwise) {
    return v == null ? otherwise : v;
  }
}
