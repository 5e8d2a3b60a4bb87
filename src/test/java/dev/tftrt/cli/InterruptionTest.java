package dev.tftrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.demo.DemoModel;
import dev.tftrt.testing.ChildJvm;
import dev.tftrt.testing.Cli;
import dev.tftrt.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whole processes: what an interrupted or finished tftrt leaves behind. */
class InterruptionTest {
  @TempDir Path tmp;

  @Test
  void sigtermDuringConvertRemovesWhatItWroteAndExits130() throws Exception {
    Path models = Files.createDirectories(tmp.resolve("models"));
    Path model = models.resolve("demo");
    DemoModel.save(model, 5);
    Path work = Files.createDirectories(tmp.resolve("work")); // the child's current folder
    Path out = work.resolve("conv");
    Process p = ChildJvm.start(work, List.of(), "dev.tftrt.cli.Main", "convert", model.toString(), "-o", out.toString());
    // Wait until writing has begun: the hidden temporary folder exists.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    boolean writing = false;
    while (!writing && p.isAlive() && System.nanoTime() < deadline) {
      try (var s = Files.list(work)) {
        writing = s.anyMatch(f -> f.getFileName().toString().startsWith(".conv.tftrt-" + p.pid() + "-"));
      }
      if (!writing) Thread.sleep(5);
    }
    assertTrue(writing, "the temporary folder never appeared: " + Files.readString(work.resolve("err.txt")));
    p.destroy(); // SIGTERM
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the interrupted convert did not end");
    String err = Files.readString(work.resolve("err.txt"));
    assertEquals(Interruption.EXIT_CODE, p.exitValue(), err);
    assertTrue(err.contains("tftrt: interrupted; removed what this run had started to write."), err);
    assertEquals(List.of("err.txt", "out.txt"), TestModels.listing(work)); // no temporaries, no hs_err_pid*.log
    assertEquals(List.of("demo"), TestModels.listing(models));
  }

  @Test
  void aKilledConvertsLeftoversAreRemovedByTheNextConvertToTheSameFolder() throws Exception {
    Path model = tmp.resolve("demo");
    DemoModel.save(model, 6);
    Path work = Files.createDirectories(tmp.resolve("work"));
    Path out = work.resolve("conv");
    Process p = ChildJvm.start(work, List.of(), "dev.tftrt.cli.Main", "convert", model.toString(), "-o", out.toString());
    String prefix = ".conv.tftrt-" + p.pid() + "-";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    boolean writing = false;
    while (!writing && p.isAlive() && System.nanoTime() < deadline) {
      try (var s = Files.list(work)) {
        writing = s.anyMatch(f -> f.getFileName().toString().startsWith(prefix));
      }
      if (!writing) Thread.sleep(5);
    }
    assertTrue(writing, "the temporary folder never appeared: " + Files.readString(work.resolve("err.txt")));
    p.destroyForcibly(); // SIGKILL: no hook runs, the temporary folder stays
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    try (var s = Files.list(work)) {
      assertTrue(s.anyMatch(f -> f.getFileName().toString().startsWith(prefix)), "nothing was left to clean");
    }
    Cli.Result r = Cli.run("convert", model.toString(), "-o", out.toString(), "--no-verify");
    assertEquals(0, r.code(), r.toString());
    assertEquals(List.of("conv", "err.txt", "out.txt"), TestModels.listing(work));
  }

  @Test
  void aJvmThatLoadedOnnxRuntimeLeavesNothingInTheTempFolder() throws Exception {
    Path javaTmp = Files.createDirectories(tmp.resolve("java-tmp"));
    // Java's temp folder for ONNX Runtime's extracted libraries; TMPDIR for what its native code
    // writes (mat-debug-PID.log, .ses).
    Process p = ChildJvm.start(tmp, java.util.Map.of("TMPDIR", javaTmp.toString()),
        List.of("-Djava.io.tmpdir=" + javaTmp), "dev.tftrt.testing.LoadOnnxRuntime");
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), Files.readString(tmp.resolve("err.txt")));
    assertTrue(Files.readString(tmp.resolve("out.txt")).startsWith("onnxruntime "));
    assertEquals(List.of(), TestModels.listing(javaTmp));
  }
}
