package dev.tftrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.tftrt.build.GpuDetection;
import dev.tftrt.demo.DemoModel;
import dev.tftrt.testing.Cli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tftrt build and convert --build where no GPU is usable: one sentence, exit 2, nothing written. */
class BuildCliTest {
  @TempDir static Path shared;
  static Path model;
  static Path converted;

  @TempDir Path tmp;

  @BeforeAll
  static void convertDemo() {
    assumeFalse(GpuDetection.detect().usable(), "a GPU is usable here: the GPU tests cover build");
    model = shared.resolve("demo");
    DemoModel.save(model, 1);
    converted = shared.resolve("converted");
    Cli.Result r = Cli.run("convert", model.toString(), "-o", converted.toString(), "--no-verify");
    assertEquals(0, r.code(), r.toString());
  }

  @Test
  @DisplayName("tftrt build OUTDIR exits 2 with the detection's sentence and writes no engines")
  void buildSaysWhatIsMissing() {
    Cli.Result r = Cli.run("build", converted.toString(), "--shape-range", "x=1,8:4,8:16,8");
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: cannot build TensorRT engines: " + GpuDetection.detect().problem() + "\n", r.err());
    assertFalse(Files.exists(converted.resolve("engines")));
  }

  @Test
  @DisplayName("convert --build exits 2 before converting: OUTDIR is not written")
  void convertBuildSaysSoFirst() {
    Path out = tmp.resolve("out");
    Cli.Result r = Cli.run("convert", model.toString(), "-o", out.toString(), "--build");
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: cannot build TensorRT engines (--build): " + GpuDetection.detect().problem() + "\n", r.err());
    assertFalse(Files.exists(out));
  }

  @Test
  @DisplayName("build refuses a folder that is not a converted model, and bad options, in one sentence")
  void badInputIsOneSentence() throws Exception {
    Cli.Result r = Cli.run("build", tmp.toString());
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: " + tmp + " is not a converted model (no tftrt.json of format tftrt-converted); "
        + "make one with tftrt convert.\n", r.err());
    r = Cli.run("build", converted.toString(), "--shape-range", "x=1:2");
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: --shape-range x=1:2 has 2 shapes; give min:opt:max (three) or one fixed shape.\n", r.err());
    r = Cli.run("build", converted.toString(), "--builder-level", "9");
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: --builder-level 9 is outside 0..5 (TensorRT's builder optimisation levels).\n", r.err());
    Path foreign = Files.createDirectories(tmp.resolve("mine"));
    Files.writeString(foreign.resolve("notes.txt"), "mine");
    r = Cli.run("build", converted.toString(), "--engine-cache", foreign.toString());
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: cannot write engines into " + foreign + ": it is a folder of files tftrt did not write; "
        + "name a new or empty folder, or an engine cache.\n", r.err());
  }
}
