package dev.tftrt.build;

import static org.bytedeco.cuda.global.cudart.cudaDriverGetVersion;
import static org.bytedeco.cuda.global.cudart.cudaErrorInsufficientDriver;
import static org.bytedeco.cuda.global.cudart.cudaErrorNoDevice;
import static org.bytedeco.cuda.global.cudart.cudaGetDeviceCount;
import static org.bytedeco.cuda.global.cudart.cudaGetDeviceProperties;
import static org.bytedeco.cuda.global.cudart.cudaGetErrorString;
import static org.bytedeco.cuda.global.cudart.cudaSuccess;

import org.bytedeco.cuda.cudart.cudaDeviceProp;

/**
 * The CUDA queries of {@link GpuDetection}, in a class of their own so that nothing CUDA is
 * loaded until the detection's cheap checks have passed. Every call here may throw {@link
 * LinkageError} (natives that do not load); the caller catches it.
 */
final class CudaProbe {
  /** Device 0 as CUDA reports it, or the sentence saying why there is none. */
  record Result(String problem, String name, int ccMajor, int ccMinor, long memoryBytes, int driverVersion) {
    static Result problem(String p) {
      return new Result(p, "", 0, 0, 0, 0);
    }
  }

  private CudaProbe() {}

  static Result query() {
    int[] driver = {0};
    int rc = cudaDriverGetVersion(driver);
    if (rc != cudaSuccess) return Result.problem("the NVIDIA driver does not answer (" + error(rc) + ").");
    int[] count = {0};
    rc = cudaGetDeviceCount(count);
    if (rc == cudaErrorInsufficientDriver) {
      return Result.problem("the NVIDIA driver (CUDA " + driver[0] / 1000 + "." + (driver[0] % 1000) / 10
          + ") is older than CUDA 13.3 needs: install driver " + GpuInfo.MIN_DRIVER_BRANCH + " or newer.");
    }
    if (rc == cudaErrorNoDevice || (rc == cudaSuccess && count[0] == 0)) {
      return Result.problem("the NVIDIA driver is installed but finds no GPU (check nvidia-smi and "
          + "CUDA_VISIBLE_DEVICES); on this machine use --backend onnxruntime.");
    }
    if (rc != cudaSuccess) return Result.problem("CUDA cannot count the GPUs (" + error(rc) + ").");
    cudaDeviceProp p = new cudaDeviceProp();
    rc = cudaGetDeviceProperties(p, 0);
    if (rc != cudaSuccess) return Result.problem("CUDA cannot describe GPU 0 (" + error(rc) + ").");
    return new Result(null, p.name().getString().strip(), p.major(), p.minor(), p.totalGlobalMem(), driver[0]);
  }

  static String error(int rc) {
    try {
      return cudaGetErrorString(rc).getString() + ", CUDA error " + rc;
    } catch (RuntimeException | LinkageError e) {
      return "CUDA error " + rc;
    }
  }
}
