package dev.tftrt.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tftrt.TftrtException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;

/** The JSON written beside a frozen graph. */
class SidecarTest {
  @TempDir Path tmp;

  private static Sidecar sample() {
    return Sidecar.of("/models/sm", "SAVED_MODEL", "serving_default", List.of("serve"),
        List.of(new TensorSpec("image", "input:0", DataType.DT_FLOAT, new long[] {-1, 16, 16, 3})),
        List.of(new TensorSpec("logits", "dense/BiasAdd:0", DataType.DT_FLOAT, new long[] {-1, 10}),
            new TensorSpec("ids", "top:1", DataType.DT_INT32, null)),
        Map.of("variablesFrozen", 4));
  }

  @Test
  @DisplayName("model.pb -> model.json, beside it")
  void pathFor() {
    assertEquals(Path.of("out", "model.json"), Sidecar.pathFor(Path.of("out", "model.pb")));
    assertEquals(Path.of("a.b.json"), Sidecar.pathFor(Path.of("a.b.pbtxt")));
    assertEquals(Path.of("frozen.json"), Sidecar.pathFor(Path.of("frozen")));
  }

  @Test
  @DisplayName("written and read back, names, dtypes and shapes survive")
  void roundTrip() throws IOException {
    Path graph = tmp.resolve("model.pb");
    Files.write(Sidecar.pathFor(graph), sample().toBytes());
    Sidecar s = Sidecar.readBeside(graph);
    assertEquals(Sidecar.FORMAT, s.format());
    assertEquals("serving_default", s.signature());
    assertEquals(sample().inputSpecs(graph), s.inputSpecs(graph));
    assertEquals(sample().outputSpecs(graph), s.outputSpecs(graph));
    assertArrayEquals(new long[] {-1, 16, 16, 3}, s.inputSpecs(graph).get(0).shape());
    assertNull(s.outputSpecs(graph).get(1).shape());
    assertEquals(4, ((Number) s.freezing().get("variablesFrozen")).intValue());
  }

  @Test
  @DisplayName("no JSON beside the graph, or someone else's JSON: no sidecar")
  void absentOrForeign() throws IOException {
    Path graph = tmp.resolve("model.pb");
    assertNull(Sidecar.readBeside(graph));
    Files.writeString(Sidecar.pathFor(graph), "{\"labels\": [\"cat\", \"dog\"]}");
    assertNull(Sidecar.readBeside(graph));
    Files.writeString(Sidecar.pathFor(graph), "not json at all");
    assertNull(Sidecar.readBeside(graph));
  }

  @Test
  @DisplayName("a damaged sidecar of ours")
  void damaged() throws IOException {
    Path graph = tmp.resolve("model.pb");
    byte[] good = sample().toBytes();
    Files.write(Sidecar.pathFor(graph), java.util.Arrays.copyOf(good, good.length / 2));
    assertEquals(Sidecar.pathFor(graph) + " is a damaged tftrt sidecar: it is not valid JSON.",
        assertThrows(TftrtException.class, () -> Sidecar.readBeside(graph)).getMessage());
  }

  @Test
  @DisplayName("a sidecar naming a dtype tftrt does not know")
  void unknownDtype() throws IOException {
    Path graph = tmp.resolve("model.pb");
    Path json = Sidecar.pathFor(graph);
    Files.writeString(json, new String(sample().toBytes(), java.nio.charset.StandardCharsets.UTF_8)
        .replace("\"int32\"", "\"complex256\""));
    Sidecar s = Sidecar.readBeside(graph);
    assertEquals(json + " names an unknown dtype 'complex256'.",
        assertThrows(TftrtException.class, () -> s.outputSpecs(json)).getMessage());
  }
}
