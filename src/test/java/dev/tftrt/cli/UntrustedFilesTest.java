package dev.tftrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.tftrt.testing.Cli;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files that are not what they claim: one sentence and exit 2, never a hang or a Java Error. */
class UntrustedFilesTest {
  @TempDir Path tmp;

  private static final String GRAPH = "node { name: \"x\" op: \"Placeholder\" attr { key: \"dtype\" value { type: DT_FLOAT } } }\n"
      + "node { name: \"y\" op: \"Neg\" input: \"x\" attr { key: \"T\" value { type: DT_FLOAT } } }\n";

  private static void assertRefused(Cli.Result r, String sentence) {
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: " + sentence, r.firstErrLine(), r.toString());
  }

  private Path fifo(String name) throws Exception {
    Path p = tmp.resolve(name);
    Process mk = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
    assertEquals(0, mk.waitFor());
    return p;
  }

  @Test
  @DisplayName("a 20,000-deep text GraphDef is refused before protobuf's parser overflows the stack")
  void deepPbtxt() throws IOException {
    Path g = tmp.resolve("deep.pbtxt");
    StringBuilder b = new StringBuilder("node { name: \"x\" op: \"Const\" attr { key: \"value\" value { ");
    b.append("list { func { attr { key: \"a\" value { ".repeat(5000));
    b.append("} } } } ".repeat(5000)).append("} } }\n");
    Files.writeString(g, b);
    assertRefused(Cli.run("run", g.toString()), g + " nests messages more than 100 deep, which no TensorFlow graph does.");
  }

  @Test
  @DisplayName("a .npy header nested 50,000 deep is refused, no StackOverflowError")
  void deepNpyHeader() throws IOException {
    Path g = tmp.resolve("m.pbtxt");
    Files.writeString(g, GRAPH);
    String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + "(".repeat(50000) + ")".repeat(50000) + "}";
    byte[] header = (dict + "\n").getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer npy = ByteBuffer.allocate(12 + header.length).order(ByteOrder.LITTLE_ENDIAN);
    npy.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0}).putInt(header.length).put(header);
    Path x = tmp.resolve("x.npy");
    Files.write(x, npy.array());
    assertRefused(Cli.run("run", g.toString(), "--input", "x=" + x),
        x + " has a malformed .npy header: it nests more than 16 levels deep at character 65.");
  }

  @Test
  @DisplayName("a FIFO given as a model or as a .npy input is refused, not opened")
  void fifos() throws Exception {
    Path model = fifo("model.pb");
    Path g = tmp.resolve("m.pbtxt");
    Files.writeString(g, GRAPH);
    Path x = fifo("x.npy");
    Path wav = fifo("clip.wav");
    assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
      assertRefused(Cli.run("run", model.toString()),
          model + " is not a regular file (a FIFO, socket or device), so tftrt does not read it.");
      assertRefused(Cli.run("run", g.toString(), "--input", "x=" + x),
          x + " is not a regular file (a FIFO, socket or device), so tftrt does not read it.");
      assertRefused(Cli.run("run", g.toString(), "--input", "x=@" + wav),
          wav + " is not a regular file (a FIFO, socket or device), so tftrt does not read it.");
    });
  }

  @Test
  @DisplayName("a 3 GB model file is refused from its size, not read into an OutOfMemoryError")
  void hugeModelFile() throws IOException {
    Path big = tmp.resolve("big.pb");
    try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
      f.setLength(3L << 30); // sparse: no disk is used
    }
    assertRefused(Cli.run("inspect", big.toString()),
        big + " is 3.0 GB, larger than a protocol buffer can be (2.0 GB).");
  }

  @Test
  @DisplayName("a corrupt .onnx file: one sentence in tftrt's words, no ONNX Runtime codes or text")
  void corruptOnnx() throws IOException {
    Path g = tmp.resolve("m.pbtxt");
    Files.writeString(g, GRAPH);
    Path onnx = tmp.resolve("bad.onnx");
    Files.write(onnx, "\u00ff\u00ffnot an onnx model at all".getBytes(StandardCharsets.UTF_8));
    Cli.Result r = Cli.run("compare", g.toString(), onnx.toString(), "--random");
    assertRefused(r, onnx + " is not a valid ONNX model: it could not be parsed (truncated or corrupt).");
    assertEquals(1, r.err().lines().count(), r.toString());
  }
}
