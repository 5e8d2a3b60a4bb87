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

/** Telling model forms apart by path and contents. */
class ModelFormatTest {
  @TempDir Path tmp;

  @Test
  @DisplayName("a directory with saved_model.pb, or the file itself, is a SavedModel")
  void savedModel() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("sm"));
    Path pb = Files.write(dir.resolve("saved_model.pb"), new byte[] {1});
    assertEquals(ModelFormat.SAVED_MODEL, ModelFormat.detect(dir));
    assertEquals(ModelFormat.SAVED_MODEL, ModelFormat.detect(pb));
    assertEquals(dir.toAbsolutePath(), ModelFormat.savedModelDir(pb));
    assertEquals(dir, ModelFormat.savedModelDir(dir));
  }

  @Test
  @DisplayName("a directory with saved_model.pbtxt is a SavedModel")
  void savedModelText() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("smt"));
    Files.writeString(dir.resolve("saved_model.pbtxt"), "");
    assertEquals(ModelFormat.SAVED_MODEL, ModelFormat.detect(dir));
  }

  @Test
  @DisplayName("file kinds by extension")
  void byExtension() throws IOException {
    assertEquals(ModelFormat.GRAPHDEF, ModelFormat.detect(Files.write(tmp.resolve("g.pb"), new byte[1])));
    assertEquals(ModelFormat.GRAPHDEF_TEXT, ModelFormat.detect(Files.write(tmp.resolve("g.pbtxt"), new byte[1])));
    assertEquals(ModelFormat.META_CHECKPOINT, ModelFormat.detect(Files.write(tmp.resolve("m.meta"), new byte[1])));
  }

  @Test
  @DisplayName("a missing path")
  void missing() {
    Path p = tmp.resolve("nothing");
    assertEquals(p + " does not exist.", assertThrows(TftrtException.class, () -> ModelFormat.detect(p)).getMessage());
  }

  @Test
  @DisplayName("a directory without saved_model.pb")
  void plainDirectory() {
    assertEquals(tmp + " is a directory but not a SavedModel: it has no saved_model.pb.",
        assertThrows(TftrtException.class, () -> ModelFormat.detect(tmp)).getMessage());
  }

  @Test
  @DisplayName("an ONNX file")
  void onnx() throws IOException {
    Path p = Files.write(tmp.resolve("model.onnx"), new byte[1]);
    assertEquals(p + " is an ONNX model, which this command does not take as a TensorFlow model.",
        assertThrows(TftrtException.class, () -> ModelFormat.detect(p)).getMessage());
  }

  @Test
  @DisplayName("a file of another kind")
  void otherFile() throws IOException {
    Path p = Files.write(tmp.resolve("model.h5"), new byte[1]);
    assertEquals(p + " is not a model tftrt reads: expected a SavedModel directory, a GraphDef (.pb or .pbtxt) "
        + "or a TF1 .meta file with its checkpoint.",
        assertThrows(TftrtException.class, () -> ModelFormat.detect(p)).getMessage());
  }
}
