package dev.tftrt.build;

import dev.tftrt.util.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The persistent TensorRT timing cache: the kernel timings of earlier builds, which make later
 * builds of similar layers take seconds instead of minutes. A timing cache carries the device's
 * properties and TensorRT refuses one from another device, so there is one file per device and
 * TensorRT version: {@code DIR/timing-<gpu>-sm<cc>-trt<version>.cache}.
 */
public final class TimingCache {
  private final Path file;

  private TimingCache(Path file) {
    this.file = file;
  }

  /** The timing cache for {@code gpu} in {@code dir}. */
  public static TimingCache forDevice(Path dir, GpuInfo gpu) {
    return new TimingCache(dir.resolve(fileName(gpu.name(), gpu.ccMajor(), gpu.ccMinor(), gpu.tensorRtVersion())));
  }

  /** The file name for a device: safe characters only, so any GPU name makes a legal name. */
  static String fileName(String gpuName, int ccMajor, int ccMinor, String trtVersion) {
    String slug = gpuName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-|-$)", "");
    if (slug.isEmpty()) slug = "gpu";
    if (slug.length() > 64) slug = slug.substring(0, 64);
    return "timing-" + slug + "-sm" + ccMajor + ccMinor + "-trt" + trtVersion.replaceAll("[^0-9.]", "") + ".cache";
  }

  public Path file() {
    return file;
  }

  /** The cache's bytes, or an empty array when none is stored (or it cannot be read). */
  public byte[] read() {
    try {
      return Files.isRegularFile(file) ? Files.readAllBytes(file) : new byte[0];
    } catch (IOException e) {
      return new byte[0]; // a build without the cache is slower, not wrong
    }
  }

  /** Replaces the stored cache with {@code bytes} (atomically: a concurrent build sees old or new). */
  public void write(byte[] bytes) {
    try {
      Files.createDirectories(file.getParent());
    } catch (IOException e) {
      throw new dev.tftrt.TftrtException("cannot create the timing cache folder " + file.getParent()
          + ": " + AtomicFiles.reason(e) + ".");
    }
    AtomicFiles.write(file, bytes);
  }
}
