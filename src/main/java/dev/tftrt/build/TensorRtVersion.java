package dev.tftrt.build;

import org.bytedeco.tensorrt.global.nvinfer;

/**
 * TensorRT's versions: the one this build compiles against (constants javac inlines, readable
 * without natives) and the one whose library is loaded (a native call: may throw LinkageError).
 */
public final class TensorRtVersion {
  private TensorRtVersion() {}

  /** "11.2.1": the version of the presets this build compiles against. */
  public static String compiled() {
    return nvinfer.NV_TENSORRT_MAJOR + "." + nvinfer.NV_TENSORRT_MINOR + "." + nvinfer.NV_TENSORRT_PATCH;
  }

  /** The loaded library's version, from getInferLibVersion ((MAJOR*100+MINOR)*100+PATCH). */
  static String loaded() {
    int v = nvinfer.getInferLibVersion();
    return v / 10000 + "." + (v / 100) % 100 + "." + v % 100;
  }
}
