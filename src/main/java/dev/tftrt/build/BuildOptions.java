package dev.tftrt.build;

import dev.tftrt.TftrtException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How engines are built: what goes into each {@code IBuilderConfig} and, through {@link
 * #keyText}, into the engine cache key (every option that changes the plan changes the key).
 *
 * <p>There is no precision option: TensorRT 11 networks are strongly typed, so an engine runs
 * in whatever precision its segment's ONNX declares (FP16 casts, Q/DQ pairs).
 */
public final class BuildOptions {
  /** TensorRT's default builder optimisation level. */
  public static final int DEFAULT_LEVEL = 3;

  private final long workspaceBytes;
  private final int optimizationLevel;
  private final HardwareCompat hardwareCompat;
  private final boolean versionCompatible;
  private final Path timingCacheDir;
  private final ShapeRanges shapeRanges;
  private final boolean allowBuildAtRuntime;

  private BuildOptions(Builder b) {
    this.workspaceBytes = b.workspaceBytes;
    this.optimizationLevel = b.optimizationLevel;
    this.hardwareCompat = b.hardwareCompat;
    this.versionCompatible = b.versionCompatible;
    this.timingCacheDir = b.timingCacheDir;
    this.shapeRanges = b.shapeRanges;
    this.allowBuildAtRuntime = b.allowBuildAtRuntime;
  }

  public static Builder builder() {
    return new Builder();
  }

  public static BuildOptions defaults() {
    return builder().build();
  }

  public Builder toBuilder() {
    return new Builder().workspaceBytes(workspaceBytes).optimizationLevel(optimizationLevel)
        .hardwareCompat(hardwareCompat).versionCompatible(versionCompatible)
        .timingCacheDir(timingCacheDir).shapeRanges(shapeRanges)
        .allowBuildAtRuntime(allowBuildAtRuntime);
  }

  /** The workspace memory-pool limit in bytes; 0 leaves TensorRT's default (the device's memory). */
  public long workspaceBytes() {
    return workspaceBytes;
  }

  public int optimizationLevel() {
    return optimizationLevel;
  }

  public HardwareCompat hardwareCompat() {
    return hardwareCompat;
  }

  /** Whether plans embed the lean runtime and load on later TensorRT versions. */
  public boolean versionCompatible() {
    return versionCompatible;
  }

  /** Where per-device timing caches live (see {@link TimingCache}). */
  public Path timingCacheDir() {
    return timingCacheDir;
  }

  public ShapeRanges shapeRanges() {
    return shapeRanges;
  }

  /** Whether a missing or mismatching engine is built when a model runs (else one sentence). */
  public boolean allowBuildAtRuntime() {
    return allowBuildAtRuntime;
  }

  /** The options that change a plan, as the cache key holds them. */
  public String keyText() {
    return "workspace=" + (workspaceBytes == 0 ? "default" : Long.toString(workspaceBytes))
        + ";level=" + optimizationLevel + ";hardware=" + hardwareCompat.cliName()
        + ";version-compatible=" + versionCompatible;
  }

  /** The default timing-cache folder: {@code $XDG_CACHE_HOME/tftrt/timing} or {@code ~/.cache/tftrt/timing}. */
  public static Path defaultTimingCacheDir() {
    return userCacheRoot().resolve("timing");
  }

  /** The default engine cache folder ({@code .../tftrt/engines}). */
  public static Path defaultEngineCacheDir() {
    return userCacheRoot().resolve("engines");
  }

  static Path userCacheRoot() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg)
        : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("tftrt");
  }

  public static final class Builder {
    private long workspaceBytes;
    private int optimizationLevel = DEFAULT_LEVEL;
    private HardwareCompat hardwareCompat = HardwareCompat.NONE;
    private boolean versionCompatible;
    private Path timingCacheDir = defaultTimingCacheDir();
    private ShapeRanges shapeRanges = ShapeRanges.none();
    private boolean allowBuildAtRuntime = true;

    public Builder workspaceBytes(long bytes) {
      if (bytes < 0) throw new TftrtException("--workspace must not be negative.");
      this.workspaceBytes = bytes;
      return this;
    }

    /** TensorRT's builder optimisation level, 0 (fastest build) to 5 (most tactics tried). */
    public Builder optimizationLevel(int level) {
      if (level < 0 || level > 5) {
        throw new TftrtException("--builder-level " + level + " is outside 0..5 (TensorRT's builder optimisation levels).");
      }
      this.optimizationLevel = level;
      return this;
    }

    public Builder hardwareCompat(HardwareCompat h) {
      this.hardwareCompat = Objects.requireNonNull(h);
      return this;
    }

    public Builder versionCompatible(boolean v) {
      this.versionCompatible = v;
      return this;
    }

    public Builder timingCacheDir(Path dir) {
      this.timingCacheDir = Objects.requireNonNull(dir);
      return this;
    }

    public Builder shapeRanges(ShapeRanges r) {
      this.shapeRanges = Objects.requireNonNull(r);
      return this;
    }

    public Builder allowBuildAtRuntime(boolean allow) {
      this.allowBuildAtRuntime = allow;
      return this;
    }

    public BuildOptions build() {
      return new BuildOptions(this);
    }
  }

  /** Parses a size such as {@code 512M}, {@code 2G} or a byte count. */
  public static long parseSize(String s) {
    String v = s == null ? "" : s.strip().toUpperCase(java.util.Locale.ROOT);
    long mul = 1;
    if (v.endsWith("K")) mul = 1L << 10;
    else if (v.endsWith("M")) mul = 1L << 20;
    else if (v.endsWith("G")) mul = 1L << 30;
    if (mul > 1) v = v.substring(0, v.length() - 1);
    try {
      long n = Long.parseLong(v);
      if (n < 0 || n > Long.MAX_VALUE / mul) throw new NumberFormatException();
      return n * mul;
    } catch (NumberFormatException e) {
      throw new TftrtException("--workspace " + s + " is not a size such as 512M, 2G or a byte count.");
    }
  }
}
