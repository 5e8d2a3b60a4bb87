package dev.tftrt.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tftrt.TftrtException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.VersionDef;

/** Reading GraphDef files, binary and text, and the sentences for ones that are not. */
class GraphDefsTest {
  @TempDir Path tmp;

  private static GraphDef twoNodes() {
    return GraphDef.newBuilder()
        .addNode(NodeDef.newBuilder().setName("a").setOp("Placeholder"))
        .addNode(NodeDef.newBuilder().setName("b").setOp("Identity").addInput("a"))
        .build();
  }

  @Test
  @DisplayName("binary and text forms read back equal")
  void readsBinaryAndText() throws IOException {
    Path bin = Files.write(tmp.resolve("g.pb"), twoNodes().toByteArray());
    Path txt = Files.writeString(tmp.resolve("g.pbtxt"), twoNodes().toString());
    assertEquals(twoNodes(), GraphDefs.read(bin, false));
    assertEquals(twoNodes(), GraphDefs.read(txt, true));
  }

  @Test
  @DisplayName("an empty file")
  void empty() throws IOException {
    Path p = Files.write(tmp.resolve("e.pb"), new byte[0]);
    assertEquals(p + " is empty, not a TensorFlow GraphDef.",
        assertThrows(TftrtException.class, () -> GraphDefs.read(p, false)).getMessage());
  }

  @Test
  @DisplayName("bytes that are not a protobuf")
  void garbage() throws IOException {
    Path p = Files.write(tmp.resolve("g.pb"), new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01});
    assertEquals(p + " is not a TensorFlow GraphDef: it could not be parsed (truncated or corrupt).",
        assertThrows(TftrtException.class, () -> GraphDefs.read(p, false)).getMessage());
  }

  @Test
  @DisplayName("text that is not a GraphDef in text format")
  void badText() throws IOException {
    Path p = Files.writeString(tmp.resolve("g.pbtxt"), "node { name: ");
    assertEquals(p + " is not a TensorFlow GraphDef: it could not be parsed (truncated or corrupt).",
        assertThrows(TftrtException.class, () -> GraphDefs.read(p, true)).getMessage());
  }

  @Test
  @DisplayName("a valid protobuf without nodes")
  void noNodes() throws IOException {
    Path p = Files.write(tmp.resolve("v.pb"),
        GraphDef.newBuilder().setVersions(VersionDef.newBuilder().setProducer(1)).build().toByteArray());
    assertEquals(p + " is not a TensorFlow GraphDef: it holds no nodes.",
        assertThrows(TftrtException.class, () -> GraphDefs.read(p, false)).getMessage());
  }

  @Test
  @DisplayName("a node without an op")
  void nodeWithoutOp() throws IOException {
    Path p = Files.write(tmp.resolve("n.pb"),
        GraphDef.newBuilder().addNode(NodeDef.newBuilder().setName("a")).build().toByteArray());
    assertEquals(p + " is not a TensorFlow GraphDef: it has nodes without a name or op.",
        assertThrows(TftrtException.class, () -> GraphDefs.read(p, false)).getMessage());
  }
}
