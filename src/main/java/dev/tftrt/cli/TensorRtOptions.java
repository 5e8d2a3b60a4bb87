package dev.tftrt.cli;

import dev.tftrt.build.BuildOptions;
import dev.tftrt.build.HardwareCompat;
import dev.tftrt.build.ShapeRanges;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** How TensorRT engines are built: options of build and convert --build. */
final class TensorRtOptions {
  @Option(names = "--shape-range", paramLabel = "NAME=MIN:OPT:MAX",
      description = "The shapes an input with unknown dimensions takes, as MIN:OPT:MAX (repeatable; the README"
          + " gives an example). It names an engine input, or a model input whose range varies only the batch.")
  List<String> shapeRanges = new ArrayList<>();

  @Option(names = "--engine-cache", paramLabel = "DIR", description = "Store engines here instead of OUTDIR/engines.")
  Path engineCache;

  @Option(names = "--timing-cache", paramLabel = "DIR", description = "Where the timing caches go, one per GPU (default: the timing folder of tftrt's cache folder in your home).")
  Path timingCache;

  @Option(names = "--workspace", paramLabel = "SIZE", description = "The TensorRT workspace limit, such as 2G (default: TensorRT's).")
  String workspace;

  @Option(names = "--builder-level", paramLabel = "0-5", defaultValue = "3",
      description = "The TensorRT builder optimisation level (default: ${DEFAULT-VALUE}); a higher level builds longer and may run faster.")
  int level;

  @Option(names = "--hardware-compat", paramLabel = "LEVEL", defaultValue = "none",
      description = "Which GPUs the engines may run on: none (this GPU's model), ampere+ or same-cc (default: ${DEFAULT-VALUE}).")
  String hardware;

  @Option(names = "--version-compatible", description = "Build engines that load on later TensorRT versions too, which may run slower.")
  boolean versionCompatible;

  @Option(names = "--allow-build-at-runtime", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Build a missing or mismatching engine when the model runs (default: on). When off, a mismatch says which part of the cache key differs.")
  boolean allowBuildAtRuntime;

  BuildOptions options() {
    BuildOptions.Builder b = BuildOptions.builder().shapeRanges(ShapeRanges.parse(shapeRanges))
        .optimizationLevel(level).hardwareCompat(HardwareCompat.parse(hardware)).versionCompatible(versionCompatible)
        .allowBuildAtRuntime(allowBuildAtRuntime);
    if (workspace != null) b.workspaceBytes(BuildOptions.parseSize(workspace));
    if (timingCache != null) b.timingCacheDir(timingCache);
    return b.build();
  }
}
