package dev.tftrt.build;

/**
 * What {@link GpuDetection} found: either a usable GPU with TensorRT (its device, compute
 * capability, memory, driver and TensorRT versions), or the one sentence saying which part is
 * missing and how to get it ({@link #problem}).
 */
public record GpuInfo(String problem, String name, int ccMajor, int ccMinor, long memoryBytes,
    int driverVersion, String tensorRtVersion) {

  /** The minimum NVIDIA driver branch CUDA 13.x runs on (minor-version compatibility). */
  public static final int MIN_DRIVER_BRANCH = 580;

  public static GpuInfo unavailable(String problem) {
    return new GpuInfo(problem, "", 0, 0, 0, 0, "");
  }

  public boolean usable() {
    return problem == null;
  }

  /** "9.0": the compute capability, as NVIDIA writes it. */
  public String computeCapability() {
    return ccMajor + "." + ccMinor;
  }

  /** "NVIDIA H200 (compute capability 9.0, 139.8 GiB)". */
  public String describe() {
    if (!usable()) return "no usable GPU";
    return name + " (compute capability " + computeCapability() + ", "
        + String.format(java.util.Locale.ROOT, "%.1f GiB", memoryBytes / (double) (1L << 30)) + ")";
  }

  /** The CUDA driver API version as "13.3" (from e.g. 13030). */
  public String driverCudaVersion() {
    return driverVersion / 1000 + "." + (driverVersion % 1000) / 10;
  }
}
