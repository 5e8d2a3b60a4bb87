package dev.tftrt.build;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The one place that answers "can TensorRT run here?", without crashing and without touching a
 * CUDA class before it is known to be loadable: JavaCPP's CUDA classes load their natives in
 * their static initialisers, and a failed initialiser leaves the class unusable for the rest of
 * the process ({@code NoClassDefFoundError}), so the cheap checks (is there a driver library, are
 * the gpu profile's native jars on the class path) come first, and every native call is behind
 * a {@code catch (LinkageError)}.
 *
 * <p>The answer is computed once per process ({@link #detect}).
 */
public final class GpuDetection {
  /** The checks, one per part that may be missing; replaced in tests. */
  interface Probe {
    /** Whether the NVIDIA driver's {@code libcuda.so.1} is present. */
    boolean driverLibraryPresent();

    /** Whether the JavaCPP native jars for CUDA and TensorRT (the gpu profile) are on the class path. */
    boolean presetNativesPresent();

    /** Queries the driver and device 0; only called when both checks above passed. */
    CudaProbe.Result queryCuda();

    /** TensorRT's library version ("11.2.1"); throws LinkageError where its libraries do not load. */
    String tensorRtVersion();
  }

  private static volatile GpuInfo detected;

  private GpuDetection() {}

  /** The answer for this process (computed on first use). */
  public static GpuInfo detect() {
    GpuInfo d = detected;
    if (d == null) {
      synchronized (GpuDetection.class) {
        d = detected;
        if (d == null) detected = d = detect(new SystemProbe());
      }
    }
    return d;
  }

  static GpuInfo detect(Probe p) {
    if (!p.driverLibraryPresent()) {
      return GpuInfo.unavailable("no NVIDIA GPU driver was found (libcuda.so.1 is not installed), "
          + "so TensorRT cannot run here: it needs an NVIDIA GPU and driver " + GpuInfo.MIN_DRIVER_BRANCH
          + " or newer (what CUDA 13.3 requires); on this machine use --backend onnxruntime.");
    }
    if (!p.presetNativesPresent()) {
      return GpuInfo.unavailable("the CUDA and TensorRT native libraries are not on the class path: "
          + "build and run tftrt with the gpu Maven profile (mvn -Pgpu package, or TFTRT_GPU=1 bin/tftrt).");
    }
    CudaProbe.Result cuda;
    try {
      cuda = p.queryCuda();
    } catch (LinkageError | RuntimeException e) {
      return GpuInfo.unavailable("the CUDA runtime does not load (" + firstLine(e) + "): check that the "
          + "NVIDIA driver is " + GpuInfo.MIN_DRIVER_BRANCH + " or newer and that the gpu profile's jars "
          + "match this platform.");
    }
    if (cuda.problem() != null) return GpuInfo.unavailable(cuda.problem());
    String trt;
    try {
      trt = p.tensorRtVersion();
    } catch (LinkageError | RuntimeException e) {
      return GpuInfo.unavailable("TensorRT's libraries do not load (" + firstLine(e) + "): build with "
          + "the gpu Maven profile, whose tensorrt redist jar carries them.");
    }
    return new GpuInfo(null, cuda.name(), cuda.ccMajor(), cuda.ccMinor(), cuda.memoryBytes(),
        cuda.driverVersion(), trt);
  }

  static String firstLine(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getMessage() == null) t = t.getCause();
    String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage().strip();
    int nl = m.indexOf('\n');
    m = nl > 0 ? m.substring(0, nl) : m;
    return m.endsWith(".") ? m.substring(0, m.length() - 1) : m;
  }

  /** The real checks. */
  static final class SystemProbe implements Probe {
    @Override
    public boolean driverLibraryPresent() {
      for (Path dir : libraryDirs()) {
        if (Files.exists(dir.resolve("libcuda.so.1"))) return true;
      }
      return false;
    }

    /** Where the dynamic loader finds libcuda: LD_LIBRARY_PATH, then the usual driver folders. */
    static List<Path> libraryDirs() {
      List<Path> dirs = new ArrayList<>();
      String ld = System.getenv("LD_LIBRARY_PATH");
      if (ld != null) for (String d : ld.split(":")) if (!d.isBlank()) dirs.add(Path.of(d));
      for (String d : new String[] {"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib",
          "/lib/x86_64-linux-gnu", "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib",
          "/usr/lib/wsl/lib", "/usr/local/cuda/compat", "/usr/lib/aarch64-linux-gnu"}) {
        dirs.add(Path.of(d));
      }
      return dirs;
    }

    @Override
    public boolean presetNativesPresent() {
      String platform = org.bytedeco.javacpp.Loader.getPlatform();
      ClassLoader cl = GpuDetection.class.getClassLoader();
      return cl.getResource("org/bytedeco/cuda/" + platform + "/libjnicudart.so") != null
          && cl.getResource("org/bytedeco/tensorrt/" + platform + "/libjninvinfer.so") != null;
    }

    @Override
    public CudaProbe.Result queryCuda() {
      return CudaProbe.query();
    }

    @Override
    public String tensorRtVersion() {
      return TensorRtVersion.loaded();
    }
  }
}
