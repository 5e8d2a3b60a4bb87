package dev.tftrt.freeze;

import dev.tftrt.pipeline.FreezeJob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tftrt.TftrtException;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.testing.Loads;
import dev.tftrt.testing.TestModels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad models given to FreezeJob: each fails with one exact sentence, writes nothing (no temporary
 * file either) into the output folder, and leaves an existing target and its sidecar unchanged.
 */
class FreezeBadInputTest {
  private static final byte[] OLD_GRAPH = "previous graph".getBytes(StandardCharsets.UTF_8);
  private static final byte[] OLD_SIDECAR = "{\"previous\": true}".getBytes(StandardCharsets.UTF_8);

  @TempDir Path tmp;
  Path outDir;
  Path target;

  @BeforeEach
  void existingTarget() throws IOException {
    outDir = Files.createDirectories(tmp.resolve("out"));
    target = outDir.resolve("model.pb");
    Files.write(target, OLD_GRAPH);
    Files.write(outDir.resolve("model.json"), OLD_SIDECAR);
  }

  /** Freezes into the existing target, expecting exactly this message and no change on disk. */
  private void assertFailsCleanly(LoadOptions load, String message) throws IOException {
    TftrtException e = assertThrows(TftrtException.class,
        () -> FreezeJob.run(new FreezeJob.Options(load, target, true, 0, Map.of()).withOverwrite(true)));
    assertEquals(message, e.getMessage());
    assertUntouched();
  }

  private void assertUntouched() throws IOException {
    assertEquals(List.of("model.json", "model.pb"), TestModels.listing(outDir));
    assertArrayEquals(OLD_GRAPH, Files.readAllBytes(target));
    assertArrayEquals(OLD_SIDECAR, Files.readAllBytes(outDir.resolve("model.json")));
  }

  private Path tf2Copy(String name) {
    return TestModels.copyTree(TestModels.shared("half_plus_two_tf2"), tmp.resolve(name));
  }

  @Test
  @DisplayName("a missing path")
  void missingPath() throws IOException {
    Path p = tmp.resolve("no_such_model");
    assertFailsCleanly(LoadOptions.of(p), p + " does not exist.");
  }

  @Test
  @DisplayName("an empty saved_model.pb")
  void emptySavedModelPb() throws IOException {
    Path dir = tf2Copy("empty");
    Files.write(dir.resolve("saved_model.pb"), new byte[0]);
    assertFailsCleanly(LoadOptions.of(dir), dir.resolve("saved_model.pb") + " is empty, not a SavedModel.");
  }

  @Test
  @DisplayName("a truncated saved_model.pb")
  void truncatedSavedModelPb() throws IOException {
    Path dir = tf2Copy("truncated");
    TestModels.truncateToHalf(dir.resolve("saved_model.pb"));
    assertFailsCleanly(LoadOptions.of(dir),
        dir.resolve("saved_model.pb") + " is truncated or corrupt: it could not be parsed as a SavedModel.");
  }

  @Test
  @DisplayName("a directory that is not a SavedModel")
  void directoryThatIsNotASavedModel() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("not_a_model"));
    Files.writeString(dir.resolve("notes.txt"), "hello");
    assertFailsCleanly(LoadOptions.of(dir), dir + " is a directory but not a SavedModel: it has no saved_model.pb.");
  }

  @Test
  @DisplayName("an unknown tag")
  void unknownTag() throws IOException {
    Path dir = TestModels.shared("half_plus_two_tf2");
    assertFailsCleanly(Loads.of(dir).tags("gpu").build(),
        "SavedModel " + dir + " has no MetaGraph tagged 'gpu'; its tag sets are: serve.");
  }

  @Test
  @DisplayName("an unknown signature")
  void unknownSignature() throws IOException {
    Path dir = TestModels.shared("half_plus_two_tf2");
    assertFailsCleanly(Loads.of(dir).signature("predict").build(),
        "SavedModel " + dir + " has no signature 'predict'; it has: classify_x2_to_y3, classify_x_to_y, "
            + "regress_x2_to_y3, regress_x_to_y, regress_x_to_y2, serving_default.");
  }

  @Test
  @DisplayName("several signatures, none of them serving_default")
  void noDefaultSignature() throws IOException {
    Path dir = tmp.resolve("two_signatures");
    TestModels.saveTwoSignatureModel(dir, 1);
    assertFailsCleanly(LoadOptions.of(dir), "SavedModel " + dir
        + " has several signatures and none is serving_default: choose one with --signature (first, second).");
  }

  @Test
  @DisplayName("a missing variables/variables.index")
  void missingVariablesIndex() throws IOException {
    Path dir = tf2Copy("no_index");
    Files.delete(dir.resolve("variables/variables.index"));
    assertFailsCleanly(LoadOptions.of(dir),
        "SavedModel " + dir + " has variables but no variables/variables.index to restore them from.");
  }

  @Test
  @DisplayName("a truncated variables data file")
  void truncatedVariablesData() throws IOException {
    Path dir = tf2Copy("short_data");
    TestModels.truncateToHalf(dir.resolve("variables/variables.data-00000-of-00001"));
    assertFailsCleanly(LoadOptions.of(dir), "SavedModel " + dir + " could not be loaded: Read less bytes than requested.");
  }

  @Test
  @DisplayName("an --outputs name that is not in the graph")
  void unknownOutputName() throws IOException {
    Path dir = TestModels.shared("half_plus_two_tf2");
    assertFailsCleanly(LoadOptions.of(dir).withOutputs(List.of("no_such_node")),
        "--outputs names 'no_such_node', but SavedModel " + dir + " has no node 'no_such_node'.");
  }

  @Test
  @DisplayName("an --outputs index past the node's outputs")
  void outputIndexOutOfRange() throws IOException {
    Path model = TestModels.shared("regression/graphdef/frozen.pb");
    assertFailsCleanly(LoadOptions.of(model).withOutputs(List.of("pred:4")),
        "--outputs names 'pred:4', but node 'pred' has 1 output(s).");
  }

  @Test
  @DisplayName("a .meta file without signatures and without --outputs")
  void metaWithoutSignature() throws IOException {
    Path meta = TestModels.shared("regression/checkpoint/model.meta");
    assertFailsCleanly(LoadOptions.of(meta), meta + " has no signatures: name the outputs with --outputs.");
  }

  @Test
  @DisplayName("a .meta file whose checkpoint is not beside it")
  void metaWithoutCheckpoint() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("meta_only"));
    Path meta = TestModels.copyWritable(TestModels.shared("regression/checkpoint/model.meta"), dir.resolve("model.meta"));
    assertFailsCleanly(LoadOptions.of(meta).withOutputs(List.of("pred")), meta
        + " has variables but no checkpoint beside it (expected " + dir.resolve("model")
        + ".index): give one with --checkpoint.");
  }

  @Test
  @DisplayName("an empty .pb file")
  void emptyGraphDef() throws IOException {
    Path pb = Files.write(tmp.resolve("empty.pb"), new byte[0]);
    assertFailsCleanly(LoadOptions.of(pb), pb + " is empty, not a TensorFlow GraphDef.");
  }

  @Test
  @DisplayName("a truncated frozen .pb file")
  void truncatedGraphDef() throws IOException {
    Path pb = TestModels.copyWritable(TestModels.shared("mlp-fc-layers/frozen.pb"), tmp.resolve("half.pb"));
    TestModels.truncateToHalf(pb);
    assertFailsCleanly(LoadOptions.of(pb),
        pb + " is not a TensorFlow GraphDef: it could not be parsed (truncated or corrupt).");
  }

  @Test
  @DisplayName("a file of an unknown kind")
  void unknownFileKind() throws IOException {
    Path f = Files.writeString(tmp.resolve("weights.h5"), "HDF");
    assertFailsCleanly(LoadOptions.of(f), f + " is not a model tftrt reads: expected a SavedModel directory, "
        + "a GraphDef (.pb or .pbtxt) or a TF1 .meta file with its checkpoint.");
  }

  /** A small frozen graph the test builds itself, so the write-path tests need no shared models. */
  private Path scalarGraph() {
    Path pb = tmp.resolve("scalar.pb");
    TestModels.writeScalarGraph(pb);
    return pb;
  }

  @Test
  @DisplayName("a failure leaves no file when the target did not exist")
  void noNewFileAfterFailure() throws IOException {
    Path fresh = Files.createDirectories(tmp.resolve("fresh"));
    LoadOptions load = LoadOptions.of(scalarGraph()).withOutputs(List.of("nope"));
    TftrtException e = assertThrows(TftrtException.class,
        () -> FreezeJob.run(new FreezeJob.Options(load, fresh.resolve("frozen.pb"), true, 0, Map.of())));
    assertEquals("--outputs names 'nope', but " + load.path() + " has no node 'nope'.", e.getMessage());
    assertEquals(List.of(), TestModels.listing(fresh));
  }

  @Test
  @DisplayName("an output folder that does not exist")
  void missingOutputFolder() {
    Path out = tmp.resolve("no_folder").resolve("frozen.pb");
    LoadOptions load = LoadOptions.of(scalarGraph());
    TftrtException e = assertThrows(TftrtException.class,
        () -> FreezeJob.run(new FreezeJob.Options(load, out, true, 0, Map.of())));
    assertEquals("cannot write " + out + ": its folder does not exist.", e.getMessage());
    assertEquals(false, Files.exists(out.getParent()));
  }

  @Test
  @DisplayName("success replaces the existing target and its sidecar")
  void successReplacesTarget() throws IOException {
    FreezeJob.run(new FreezeJob.Options(LoadOptions.of(scalarGraph()), target, true, 0, Map.of()).withOverwrite(true));
    assertEquals(List.of("model.json", "model.pb"), TestModels.listing(outDir));
    assertEquals(TestModels.readGraphDef(tmp.resolve("scalar.pb")).getNodeCount(),
        TestModels.readGraphDef(target).getNodeCount());
    assertEquals(true, Files.readString(outDir.resolve("model.json")).contains("tftrt-frozen/1"));
  }

  /**
   * BUG (util/AtomicFiles.write): the graph and its sidecar are moved into place one after the
   * other, so when the second move fails (here: model.json is a non-empty folder) the first has
   * already replaced the existing model.pb, although the freeze fails with exit code 2.
   */
  @Test
  @DisplayName("an existing target survives when its sidecar cannot be written")
  void targetSurvivesFailedSidecarWrite() throws IOException {
    Files.delete(outDir.resolve("model.json"));
    Files.createDirectories(outDir.resolve("model.json"));
    Files.writeString(outDir.resolve("model.json").resolve("keep.txt"), "keep");
    LoadOptions load = LoadOptions.of(scalarGraph());
    assertThrows(TftrtException.class, () -> FreezeJob.run(new FreezeJob.Options(load, target, true, 0, Map.of()).withOverwrite(true)));
    assertEquals(List.of("model.json", "model.pb"), TestModels.listing(outDir));
    assertArrayEquals(OLD_GRAPH, Files.readAllBytes(target),
        "model.pb was replaced although the freeze failed (graph and sidecar must be written both or neither)");
  }
}
