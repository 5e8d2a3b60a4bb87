package dev.tftrt.model;

import dev.tftrt.TftrtException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;

/**
 * A SavedModel whose nodes are pinned to devices, as TensorFlow's loader sees it here: a
 * scratch folder with saved_model.pb rewritten without device pins and links to everything
 * else (variables, assets). TensorFlow's loader reads saved_model.pb itself, and soft placement
 * does not help with pins to another job or task (a distributed export), so the loader is given
 * a graph with nothing pinned. The original folder is never written to.
 */
final class UnpinnedSavedModel {
  /** Files the rewritten graph replaces, or that describe the original bytes only. */
  private static final List<String> NOT_LINKED = List.of("saved_model.pb", "saved_model.pbtxt", "fingerprint.pb");

  private UnpinnedSavedModel() {}

  /** The scratch folder standing for dir, whose graph is sm without device pins. */
  static Path write(Path dir, SavedModel sm) {
    Path scratch = null;
    try {
      scratch = Files.createTempDirectory("tftrt-unpinned-");
      SavedModel.Builder b = sm.toBuilder();
      for (MetaGraphDef.Builder m : b.getMetaGraphsBuilderList()) m.setGraphDef(unpinned(m.getGraphDef()));
      Files.write(scratch.resolve("saved_model.pb"), b.build().toByteArray());
      try (Stream<Path> entries = Files.list(dir)) {
        for (Path p : entries.toList()) {
          String name = p.getFileName().toString();
          if (!NOT_LINKED.contains(name)) Files.createSymbolicLink(scratch.resolve(name), p.toAbsolutePath());
        }
      }
      return scratch;
    } catch (IOException e) {
      delete(scratch);
      throw new TftrtException("SavedModel " + dir + " is pinned to devices, and a copy without the pins could not be "
          + "prepared in the temporary folder: " + e.getMessage() + ".", e);
    }
  }

  static GraphDef unpinned(GraphDef g) {
    GraphDef.Builder b = g.toBuilder();
    for (NodeDef.Builder n : b.getNodeBuilderList()) n.clearDevice();
    for (FunctionDef.Builder f : b.getLibraryBuilder().getFunctionBuilderList()) {
      for (NodeDef.Builder n : f.getNodeDefBuilderList()) n.clearDevice();
    }
    return b.build();
  }

  /** Removes the scratch folder (the links, not what they point to). */
  static void delete(Path scratch) {
    if (scratch == null) return;
    try (Stream<Path> all = Files.walk(scratch)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    } catch (IOException e) {
      // Left in the temporary folder; nothing of the user's is affected.
    }
  }
}
