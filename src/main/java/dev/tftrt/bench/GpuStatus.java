package dev.tftrt.bench;

/**
 * What the bench needs to know about the GPU: whether one is usable and what it is, or why not.
 * {@link DeviceFileProbe} answers from the device files; the TensorRT stage's GPU detection
 * ({@code dev.tftrt.build.GpuInfo}) answers in full once it is there.
 */
public interface GpuStatus {
  boolean available();

  /** The device ("NVIDIA H100 80GB HBM3, 81559 MiB, driver 580.65"), when available. */
  String description();

  /** Why no GPU is usable ("nvidia-smi not found and no /dev/nvidia0"), when not available. */
  String reason();
}
