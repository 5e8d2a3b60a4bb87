package dev.tftrt.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Builder-config assembly, timing-cache paths and build progress, without CUDA. */
class BuildConfigTest {
  static final GpuInfo T4 = new GpuInfo(null, "Tesla T4", 7, 5, 16L << 30, 13030, "11.2.1");
  static final GpuInfo V100 = new GpuInfo(null, "Tesla V100-SXM2-16GB", 7, 0, 16L << 30, 13030, "11.2.1");

  @Test
  void theConfigPlanCarriesTheOptionsAndTensorRt11FlagNames() {
    List<ShapeRange> profile = List.of(ShapeRange.parse("x:0=1,3:4,3:8,3"));
    BuildOptions o = BuildOptions.builder().workspaceBytes(BuildOptions.parseSize("2G")).optimizationLevel(5)
        .versionCompatible(true).hardwareCompat(HardwareCompat.SAME_COMPUTE_CAPABILITY).build();
    BuildConfigPlan p = BuildConfigPlan.of(o, profile, T4);
    assertEquals(2L << 30, p.workspaceBytes());
    assertEquals(5, p.optimizationLevel());
    assertEquals(HardwareCompat.SAME_COMPUTE_CAPABILITY, p.hardwareCompat());
    assertEquals(List.of("kVERSION_COMPATIBLE"), p.flags());
    // the flag's value in TensorRT 11.2 (it was 13 in 10.x: never carry ints over)
    assertEquals(12, org.bytedeco.tensorrt.global.nvinfer.BuilderFlag.valueOf(p.flags().get(0)).value);
    assertEquals(profile, p.profile());
    assertEquals(List.of(), BuildConfigPlan.of(BuildOptions.defaults(), List.of(), T4).flags());
    assertEquals("workspace=default;level=3;hardware=none;version-compatible=false", BuildOptions.defaults().keyText());
  }

  @Test
  void compatibilityLevelsTheGpuCannotBuildAreRefused() {
    BuildOptions ampere = BuildOptions.builder().hardwareCompat(HardwareCompat.AMPERE_PLUS).build();
    assertEquals("--hardware-compat ampere+ needs an Ampere or newer GPU to build on; this one is "
        + "Tesla T4 (compute capability 7.5, 16.0 GiB).",
        assertThrows(TftrtException.class, () -> BuildConfigPlan.of(ampere, List.of(), T4)).getMessage());
    BuildOptions sameCc = BuildOptions.builder().hardwareCompat(HardwareCompat.SAME_COMPUTE_CAPABILITY).build();
    assertTrue(assertThrows(TftrtException.class, () -> BuildConfigPlan.of(sameCc, List.of(), V100)).getMessage()
        .startsWith("--hardware-compat same-cc needs a Turing or newer GPU"));
    BuildConfigPlan.of(sameCc, List.of(), T4);
    assertEquals("--hardware-compat sm90 is not one of none, ampere+, same-cc.",
        assertThrows(TftrtException.class, () -> HardwareCompat.parse("sm90")).getMessage());
    assertEquals(HardwareCompat.AMPERE_PLUS, HardwareCompat.parse(" Ampere+ "));
  }

  @Test
  void optionRangesAreChecked() {
    assertEquals("--builder-level 6 is outside 0..5 (TensorRT's builder optimisation levels).",
        assertThrows(TftrtException.class, () -> BuildOptions.builder().optimizationLevel(6)).getMessage());
    assertEquals(512L << 20, BuildOptions.parseSize("512m"));
    assertEquals(1000, BuildOptions.parseSize("1000"));
    assertEquals("--workspace lots is not a size such as 512M, 2G or a byte count.",
        assertThrows(TftrtException.class, () -> BuildOptions.parseSize("lots")).getMessage());
  }

  @Test
  void timingCachesAreOneFilePerDeviceAndTensorRtVersion() {
    Path dir = Path.of("/cache/timing");
    assertEquals(dir.resolve("timing-tesla-t4-sm75-trt11.2.1.cache"), TimingCache.forDevice(dir, T4).file());
    assertEquals("timing-nvidia-h200-sm90-trt11.3.0.cache", TimingCache.fileName("NVIDIA H200", 9, 0, "11.3.0"));
    assertEquals("timing-gpu-sm86-trt11.2.1.cache", TimingCache.fileName("../..", 8, 6, "11.2.1"));
    assertTrue(BuildOptions.defaults().timingCacheDir().endsWith(Path.of("tftrt", "timing")));
  }

  @Test
  void progressFollowsTensorRtsLogPhasesForwardOnly() {
    List<String> lines = new ArrayList<>();
    try (BuildProgress p = BuildProgress.to("building TftrtEngine_0", lines::add)) {
      p.message("[MemUsageChange] Init CUDA: CPU +2, GPU +0, now: CPU 40, GPU 1129 (MiB)");
      assertEquals("initialising CUDA", p.phase());
      p.message("Local timing cache in use. Profiling results in this builder pass will not be stored.");
      assertEquals("timing tactics", p.phase());
      p.message("[MemUsageChange] Init CUDA: again"); // an earlier phase's message does not go back
      assertEquals("timing tactics", p.phase());
      p.message("Tactic: 0x0000000000000000 Time: 0.0123");
      p.message("Total Activation Memory: 1234");
      assertEquals("assigning memory", p.phase());
      p.message("Engine generation completed in 12.3 seconds.");
      assertEquals("generating the engine", p.phase());
      p.message("something TensorRT never said");
      assertEquals("generating the engine", p.phase());
      p.done();
    }
    assertTrue(lines.stream().anyMatch(l -> l.contains("building TftrtEngine_0")), String.join("\n", lines));
    assertEquals(-1, BuildPhases.index(null));
    assertTrue(BuildPhases.isTacticTimed("Tactic: 0x01 Time: 0.5"));
  }
}
