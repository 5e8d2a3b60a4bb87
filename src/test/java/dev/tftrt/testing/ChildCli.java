package dev.tftrt.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the tftrt command line in a child JVM: for inputs that, unchecked, make TensorFlow abort
 * the process (a CHECK failure), which would take the test JVM down with it.
 */
public final class ChildCli {
  private ChildCli() {}

  public static Cli.Result run(String... args) {
    try {
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), "dev.tftrt.cli.Main"));
      cmd.addAll(List.of(args));
      Path out = Files.createTempFile("tftrt-child", ".out");
      Path err = Files.createTempFile("tftrt-child", ".err");
      try {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "3");
        Process p = pb.start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor();
          fail("tftrt ran for over 180 s: " + String.join(" ", args));
        }
        return new Cli.Result(p.exitValue(), Files.readString(out), Files.readString(err));
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
