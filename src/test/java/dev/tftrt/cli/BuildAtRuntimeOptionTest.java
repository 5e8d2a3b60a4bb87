package dev.tftrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.tftrt.build.GpuDetection;
import dev.tftrt.demo.DemoModel;
import dev.tftrt.runtime.TftrtModel;
import dev.tftrt.runtime.backend.Backend;
import dev.tftrt.testing.Cli;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** --[no-]allow-build-at-runtime on run, compare and bench: parsed, and handed to the converted model's load options. */
class BuildAtRuntimeOptionTest {
  @TempDir Path tmp;

  static TftrtModel.Options run(String... args) {
    CommandLine cl = new CommandLine(new RunCommand());
    cl.parseArgs(args);
    RunCommand c = cl.getCommand();
    return c.buildAtRuntime.load(c.backendOption.backend());
  }

  static TftrtModel.Options compare(String... args) {
    CommandLine cl = new CommandLine(new CompareCommand());
    cl.parseArgs(args);
    CompareCommand c = cl.getCommand();
    return c.buildAtRuntime.load(c.backendOption.backend());
  }

  static TftrtModel.Options bench(String... args) {
    CommandLine cl = new CommandLine(new BenchCommand());
    cl.parseArgs(args);
    BenchCommand c = cl.getCommand();
    return c.buildAtRuntime.load(c.backendOption.backend());
  }

  @Test
  void benchTakesTheOptionToo() {
    assertNull(bench("m").allowBuildAtRuntime());
    assertEquals(Boolean.FALSE, bench("m", "--no-allow-build-at-runtime").allowBuildAtRuntime());
    TftrtModel.Options o = bench("m", "--backend", "tensorrt", "--allow-build-at-runtime");
    assertEquals(Backend.TENSORRT, o.backend());
    assertEquals(Boolean.TRUE, o.allowBuildAtRuntime());
  }

  @Test
  void runAndCompareTakeTheOptionAndPassItToTheLoadOptions() {
    assertNull(run("m").allowBuildAtRuntime(), "not given: the process's setting");
    assertEquals(Boolean.FALSE, run("m", "--no-allow-build-at-runtime").allowBuildAtRuntime());
    assertEquals(Boolean.TRUE, run("m", "--allow-build-at-runtime").allowBuildAtRuntime());
    TftrtModel.Options o = run("m", "--backend", "tensorrt", "--no-allow-build-at-runtime");
    assertEquals(Backend.TENSORRT, o.backend());
    assertEquals(Boolean.FALSE, o.allowBuildAtRuntime());
    assertNull(compare("a", "b").allowBuildAtRuntime());
    assertEquals(Boolean.FALSE, compare("a", "b", "--no-allow-build-at-runtime").allowBuildAtRuntime());
    assertEquals(Boolean.TRUE, compare("a", "b", "--allow-build-at-runtime").allowBuildAtRuntime());
    assertEquals(Boolean.FALSE, TftrtModel.Options.defaults().withAllowBuildAtRuntime(false).withBackend(Backend.ONNXRUNTIME)
        .withOrt(TftrtModel.Options.defaults().ort()).allowBuildAtRuntime(), "kept through the other withers");
  }

  @Test
  void withoutAGpuRunWithTheOptionOffOnTensorrtIsOneSentenceExit2() {
    assumeFalse(GpuDetection.detect().usable(), "a GPU is usable here: the GPU tests cover a missing plan");
    Path model = tmp.resolve("demo");
    DemoModel.save(model, 1);
    Path converted = tmp.resolve("converted");
    Cli.Result c = Cli.run("convert", model.toString(), "-o", converted.toString(), "--no-verify");
    assertEquals(0, c.code(), c.toString());
    Cli.Result r = Cli.run("run", converted.toString(), "--backend", "tensorrt", "--no-allow-build-at-runtime", "--random");
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().startsWith("tftrt: engine node 'TftrtEngine_0' asks for the tensorrt backend, but "), r.err());
    assertTrue(r.err().endsWith(GpuDetection.detect().problem() + "\n"), r.err());
    assertEquals(1, r.err().lines().count(), r.err());
    Cli.Result cmp = Cli.run("compare", model.toString(), converted.toString(), "--backend", "tensorrt",
        "--no-allow-build-at-runtime");
    assertEquals(2, cmp.code(), cmp.toString());
    assertEquals(1, cmp.err().lines().count(), cmp.err());
    assertFalse(cmp.err().contains("Unknown option"), cmp.err());
  }
}
