package dev.tftrt.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A GPU check that loads nothing: an NVIDIA device file ({@code /dev/nvidia0}) and {@code
 * nvidia-smi} on the PATH, which it asks for the device's name, memory and driver (5 s at most).
 * Where either is missing the reason says which. The TensorRT stage's detection replaces it.
 */
public final class DeviceFileProbe implements GpuStatus {
  private final boolean available;
  private final String description;
  private final String reason;

  private DeviceFileProbe(boolean available, String description, String reason) {
    this.available = available;
    this.description = description;
    this.reason = reason;
  }

  public static DeviceFileProbe probe() {
    return probe(Path.of("/dev/nvidia0"), System.getenv("PATH"));
  }

  static DeviceFileProbe probe(Path deviceFile, String searchPath) {
    Path smi = onPath("nvidia-smi", searchPath);
    boolean device = Files.exists(deviceFile);
    if (smi == null && !device) {
      return new DeviceFileProbe(false, null, "nvidia-smi not found and no " + deviceFile);
    }
    if (smi == null) return new DeviceFileProbe(false, null, "nvidia-smi not found (the NVIDIA driver is not installed)");
    if (!device) return new DeviceFileProbe(false, null, "no " + deviceFile + " (no NVIDIA device, or its driver is not loaded)");
    String query = ask(smi);
    if (query == null || query.isBlank()) {
      return new DeviceFileProbe(false, null, "nvidia-smi finds no GPU");
    }
    return new DeviceFileProbe(true, query, null);
  }

  /** "name, memory, driver" of the first GPU, or null when nvidia-smi fails. */
  private static String ask(Path smi) {
    try {
      Process p = new ProcessBuilder(smi.toString(), "--query-gpu=name,memory.total,driver_version",
          "--format=csv,noheader").redirectErrorStream(true).start();
      p.getOutputStream().close();
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return null;
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (p.exitValue() != 0) return null;
      String first = out.lines().findFirst().orElse("");
      String[] f = first.split(",\\s*");
      return f.length == 3 ? f[0] + ", " + f[1] + ", driver " + f[2] : first;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static Path onPath(String exe, String searchPath) {
    if (searchPath == null) return null;
    for (String dir : searchPath.split(java.io.File.pathSeparator)) {
      if (dir.isEmpty()) continue;
      Path p = Path.of(dir, exe);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) return p;
    }
    return null;
  }

  @Override
  public boolean available() {
    return available;
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public String reason() {
    return reason;
  }
}
