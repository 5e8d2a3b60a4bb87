package dev.tftrt.model;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TextFormat;
import dev.tftrt.TftrtException;
import dev.tftrt.util.InputFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/** Reading GraphDef files with one clear sentence when they are not what they claim. */
public final class GraphDefs {
  private GraphDefs() {}

  /** Deeper text nesting than protobuf's own binary parser allows (100) is not a real graph. */
  static final int MAX_TEXT_DEPTH = 100;

  /** A model file's bytes, refused when it is not a regular file or larger than a protocol buffer can be. */
  public static byte[] readBytes(Path file) {
    return InputFiles.read(file, InputFiles.PROTOBUF_LIMIT, "a protocol buffer");
  }

  /**
   * Parses protobuf text format into b. Protobuf's text parser recurses once per nested message
   * without a limit, so a deeply nested file would overflow the stack: the nesting is measured
   * first (braces and angle brackets outside strings and comments).
   */
  public static void mergeText(String text, com.google.protobuf.Message.Builder b, Path file)
      throws TextFormat.ParseException {
    int depth = 0;
    char quote = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quote != 0) {
        if (c == '\\') i++;
        else if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '#') {
        while (i < text.length() && text.charAt(i) != '\n') i++;
      } else if (c == '{' || c == '<') {
        if (++depth > MAX_TEXT_DEPTH) {
          throw new TftrtException(file + " nests messages more than " + MAX_TEXT_DEPTH
              + " deep, which no TensorFlow graph does.");
        }
      } else if (c == '}' || c == '>') {
        depth--;
      }
    }
    TextFormat.merge(text, b);
  }

  public static GraphDef read(Path file, boolean text) {
    byte[] bytes = readBytes(file);
    if (bytes.length == 0) throw new TftrtException(file + " is empty, not a TensorFlow GraphDef.");
    GraphDef g;
    try {
      if (text) {
        GraphDef.Builder b = GraphDef.newBuilder();
        mergeText(new String(bytes, StandardCharsets.UTF_8), b, file);
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
