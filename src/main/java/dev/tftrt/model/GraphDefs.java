package dev.tftrt.model;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TextFormat;
import dev.tftrt.TftrtException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/** Reading GraphDef files with one clear sentence when they are not what they claim. */
public final class GraphDefs {
  private GraphDefs() {}

  public static byte[] readBytes(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new TftrtException(file + " could not be read: " + e.getMessage() + ".");
    }
  }

  public static GraphDef read(Path file, boolean text) {
    byte[] bytes = readBytes(file);
    if (bytes.length == 0) throw new TftrtException(file + " is empty, not a TensorFlow GraphDef.");
    GraphDef g;
    try {
      if (text) {
        GraphDef.Builder b = GraphDef.newBuilder();
        TextFormat.merge(new String(bytes, StandardCharsets.UTF_8), b);
        g = b.build();
      } else {
        g = GraphDef.parseFrom(bytes);
      }
    } catch (InvalidProtocolBufferException | TextFormat.ParseException e) {
      throw new TftrtException(file + " is not a TensorFlow GraphDef: it could not be parsed (truncated or corrupt).");
    }
    checkPlausible(g, file);
    return g;
  }

  /** Protobuf parses many byte strings without error; a real graph has named nodes with ops. */
  private static void checkPlausible(GraphDef g, Path file) {
    if (g.getNodeCount() == 0) {
      throw new TftrtException(file + " is not a TensorFlow GraphDef: it holds no nodes.");
    }
    for (NodeDef n : g.getNodeList()) {
      if (n.getName().isEmpty() || n.getOp().isEmpty()) {
        throw new TftrtException(file + " is not a TensorFlow GraphDef: it has nodes without a name or op.");
      }
    }
  }
}
