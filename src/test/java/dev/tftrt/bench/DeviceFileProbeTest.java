package dev.tftrt.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The device-file GPU check, with fake device files and a fake nvidia-smi. */
class DeviceFileProbeTest {
  @TempDir Path tmp;

  @Test
  void neitherDriverToolNorDeviceSaysBoth() {
    DeviceFileProbe p = DeviceFileProbe.probe(tmp.resolve("nvidia0"), tmp.toString());
    assertFalse(p.available());
    assertEquals("nvidia-smi not found and no " + tmp.resolve("nvidia0"), p.reason());
    assertNull(p.description());
    assertEquals("CPU only: no GPU (nvidia-smi not found and no " + tmp.resolve("nvidia0") + ")",
        Machine.describe(p).header());
  }

  @Test
  void aDeviceWithoutNvidiaSmiSaysTheDriverIsMissing() throws Exception {
    Path dev = Files.createFile(tmp.resolve("nvidia0"));
    DeviceFileProbe p = DeviceFileProbe.probe(dev, tmp.toString());
    assertFalse(p.available());
    assertTrue(p.reason().startsWith("nvidia-smi not found"), p.reason());
  }

  @Test
  void nvidiaSmiWithoutADeviceSaysThereIsNoDevice() throws Exception {
    smi("echo 'NVIDIA H200, 143771 MiB, 580.65.06'");
    DeviceFileProbe p = DeviceFileProbe.probe(tmp.resolve("nvidia0"), tmp.toString());
    assertFalse(p.available());
    assertTrue(p.reason().startsWith("no " + tmp.resolve("nvidia0")), p.reason());
  }

  @Test
  void aDeviceAndNvidiaSmiDescribeTheGpu() throws Exception {
    smi("echo 'NVIDIA H200, 143771 MiB, 580.65.06'");
    Path dev = Files.createFile(tmp.resolve("nvidia0"));
    DeviceFileProbe p = DeviceFileProbe.probe(dev, tmp.toString());
    assertTrue(p.available(), p.reason());
    assertEquals("NVIDIA H200, 143771 MiB, driver 580.65.06", p.description());
    assertEquals("GPU: NVIDIA H200, 143771 MiB, driver 580.65.06", Machine.describe(p).header());
  }

  @Test
  void nvidiaSmiThatFailsMeansNoGpu() throws Exception {
    smi("echo 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.'; exit 9");
    Path dev = Files.createFile(tmp.resolve("nvidia0"));
    DeviceFileProbe p = DeviceFileProbe.probe(dev, tmp.toString());
    assertFalse(p.available());
    assertEquals("nvidia-smi finds no GPU", p.reason());
  }

  private void smi(String body) throws Exception {
    Path smi = tmp.resolve("nvidia-smi");
    Files.writeString(smi, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
  }
}
