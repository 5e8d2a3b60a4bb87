package dev.tftrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tftrt.testing.Cli;
import dev.tftrt.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shapes whose sizes overflow an int or exceed memory: one sentence and exit 2, never exit 3. */
class HugeShapesTest {
  @TempDir Path tmp;

  @Test
  @DisplayName("--shape X=100000000,784 is sized in long and refused against memory")
  void feedLargerThanAnInt() throws IOException {
    Path g = tmp.resolve("mlp.pbtxt");
    Files.writeString(g, "node { name: \"X\" op: \"Placeholder\" attr { key: \"dtype\" value { type: DT_FLOAT } }"
        + " attr { key: \"shape\" value { shape { dim { size: -1 } dim { size: 784 } } } } }\n"
        + "node { name: \"y\" op: \"Neg\" input: \"X\" attr { key: \"T\" value { type: DT_FLOAT } } }\n");
    Cli.Result r = Cli.run("run", g.toString(), "--random", "--shape", "X=100000000,784");
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: input 'X' of shape [100000000, 784] (float32) would take 292 GB, more than tftrt holds in one tensor (2 GB).",
        r.firstErrLine(), r.toString());
  }

  @Test
  @DisplayName("DeepLab run at 100000x100000: its feed is refused, sized in long")
  void deeplabHugeRun() {
    Path deeplab = TestModels.shared("deeplab-mnv2-portrait").resolve("frozen_inference_graph.pb");
    Cli.Result r = Cli.run("run", deeplab.toString(), "--random", "--shape", "ImageTensor=1,100000,100000,3");
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: input 'ImageTensor' of shape [1, 100000, 100000, 3] (uint8) would take 27.9 GB, more than tftrt holds in one tensor (2 GB).",
        r.firstErrLine(), r.toString());
  }
}
