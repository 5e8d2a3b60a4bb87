package dev.tftrt.build;

import dev.tftrt.TftrtException;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.tensorrt.global.nvinfer.BuilderFlag;

/**
 * What {@link EngineBuilder} puts into one {@code IBuilderConfig}, decided without CUDA so that
 * it is unit-tested everywhere: the workspace limit, the builder optimisation level, the
 * hardware-compatibility level, the builder flags (by their TensorRT 11 names: the values were
 * renumbered from TensorRT 10 and the precision flags are gone, so nothing here is an int), and
 * the optimisation profile.
 */
public record BuildConfigPlan(long workspaceBytes, int optimizationLevel, HardwareCompat hardwareCompat,
    List<String> flags, List<ShapeRange> profile) {

  public BuildConfigPlan {
    flags = List.copyOf(flags);
    profile = List.copyOf(profile);
  }

  /**
   * The plan for {@code options} on {@code gpu}. Throws one sentence when the GPU cannot build
   * the requested compatibility level, or the options combine what TensorRT refuses.
   */
  public static BuildConfigPlan of(BuildOptions options, List<ShapeRange> profile, GpuInfo gpu) {
    String refusal = options.hardwareCompat().refusal(gpu);
    if (refusal != null) throw new TftrtException(refusal);
    List<String> flags = new ArrayList<>();
    if (options.versionCompatible()) flags.add(BuilderFlag.kVERSION_COMPATIBLE.name());
    for (String f : flags) BuilderFlag.valueOf(f); // every name must exist in TensorRT 11.2
    return new BuildConfigPlan(options.workspaceBytes(), options.optimizationLevel(),
        options.hardwareCompat(), flags, profile);
  }
}
