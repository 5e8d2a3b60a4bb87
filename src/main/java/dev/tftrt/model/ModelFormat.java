package dev.tftrt.model;

import dev.tftrt.TftrtException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The model forms tftrt reads, told apart by path and contents. */
public enum ModelFormat {
  /** A directory with saved_model.pb (or .pbtxt) and usually variables/. */
  SAVED_MODEL,
  /** A binary GraphDef, normally frozen (no variables). */
  GRAPHDEF,
  /** A GraphDef in protobuf text format. */
  GRAPHDEF_TEXT,
  /** A TF1 MetaGraphDef (.meta) with its checkpoint. */
  META_CHECKPOINT;

  public static ModelFormat detect(Path path) {
    if (!Files.exists(path)) {
      throw new TftrtException(path + " does not exist.");
    }
    if (Files.isDirectory(path)) {
      if (Files.isRegularFile(path.resolve("saved_model.pb"))
          || Files.isRegularFile(path.resolve("saved_model.pbtxt"))) {
        return SAVED_MODEL;
      }
      throw new TftrtException(path + " is a directory but not a SavedModel: it has no saved_model.pb.");
    }
    String name = path.getFileName().toString();
    if (name.equals("saved_model.pb") || name.equals("saved_model.pbtxt")) {
      return SAVED_MODEL;
    }
    if (name.endsWith(".meta")) return META_CHECKPOINT;
    if (name.endsWith(".pbtxt") || name.endsWith(".txt")) return GRAPHDEF_TEXT;
    if (name.endsWith(".pb") || name.endsWith(".graphdef")) return GRAPHDEF;
    if (name.endsWith(".onnx")) {
      throw new TftrtException(path + " is an ONNX model, which this command does not take as a TensorFlow model.");
    }
    throw new TftrtException(path + " is not a model tftrt reads: expected a SavedModel directory, "
        + "a GraphDef (.pb or .pbtxt) or a TF1 .meta file with its checkpoint.");
  }

  /** The SavedModel directory for a path that is either the directory or its saved_model.pb. */
  public static Path savedModelDir(Path path) {
    return Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
  }
}
