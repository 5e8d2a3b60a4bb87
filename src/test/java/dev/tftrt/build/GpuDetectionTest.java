package dev.tftrt.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.junit.jupiter.api.Test;

/** Detection answers without crashing: each missing part gets its own sentence. */
class GpuDetectionTest {
  static final String NO_DRIVER = "no NVIDIA GPU driver was found (libcuda.so.1 is not installed), so TensorRT cannot "
      + "run here: it needs an NVIDIA GPU and driver 580 or newer (what CUDA 13.3 requires); on this machine use "
      + "--backend onnxruntime.";

  /** A probe whose parts are present or not as told; CUDA and TensorRT answers given. */
  record Fake(boolean driver, boolean natives, CudaProbe.Result cuda, String trt) implements GpuDetection.Probe {
    @Override public boolean driverLibraryPresent() { return driver; }
    @Override public boolean presetNativesPresent() { return natives; }
    @Override public CudaProbe.Result queryCuda() {
      if (cuda == null) throw new UnsatisfiedLinkError("no jnicudart in java.library.path");
      return cuda;
    }
    @Override public String tensorRtVersion() {
      if (trt == null) throw new NoClassDefFoundError("Could not initialize class org.bytedeco.tensorrt.global.nvinfer");
      return trt;
    }
  }

  static final CudaProbe.Result H200 = new CudaProbe.Result(null, "NVIDIA H200", 9, 0, 150L << 30, 13030);

  @Test
  void thisMachineReportsNoDriverCleanly() {
    assumeFalse(new GpuDetection.SystemProbe().driverLibraryPresent(), "this machine has an NVIDIA driver");
    GpuInfo g = GpuDetection.detect();
    assertFalse(g.usable());
    assertEquals(NO_DRIVER, g.problem());
    assertEquals("no usable GPU", g.describe());
  }

  @Test
  void eachMissingPartIsNamed() {
    assertEquals(NO_DRIVER, GpuDetection.detect(new Fake(false, true, H200, "11.2.1")).problem());
    assertEquals("the CUDA and TensorRT native libraries are not on the class path: build and run tftrt with the gpu "
        + "Maven profile (mvn -Pgpu package, or TFTRT_GPU=1 bin/tftrt).",
        GpuDetection.detect(new Fake(true, false, H200, "11.2.1")).problem());
    assertEquals("the CUDA runtime does not load (no jnicudart in java.library.path): check that the NVIDIA driver is "
        + "580 or newer and that the gpu profile's jars match this platform.",
        GpuDetection.detect(new Fake(true, true, null, "11.2.1")).problem());
    assertEquals("TensorRT's libraries do not load (Could not initialize class org.bytedeco.tensorrt.global.nvinfer): "
        + "build with the gpu Maven profile, whose tensorrt redist jar carries them.",
        GpuDetection.detect(new Fake(true, true, H200, null)).problem());
    assertEquals("the NVIDIA driver is installed but finds no GPU",
        GpuDetection.detect(new Fake(true, true, CudaProbe.Result.problem("the NVIDIA driver is installed but finds no GPU"),
            "11.2.1")).problem());
  }

  @Test
  void aUsableGpuIsDescribed() {
    GpuInfo g = GpuDetection.detect(new Fake(true, true, H200, "11.2.1"));
    assertTrue(g.usable());
    assertEquals("NVIDIA H200 (compute capability 9.0, 150.0 GiB)", g.describe());
    assertEquals("13.3", g.driverCudaVersion());
    assertEquals("11.2.1", g.tensorRtVersion());
    assertEquals("11.2.1", TensorRtVersion.compiled());
  }
}
