package dev.tftrt.util;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tftrt.TftrtException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every refusal of the one output rule, each in its own sentence. */
class OutputTargetsTest {
  @TempDir Path tmp;
  Path model;       // a SavedModel folder: the run's input
  Path graph;       // a GraphDef file: another run's input
  static final OutputTargets.Own OURS = new OutputTargets.Own(p -> Files.exists(p.resolve("ours.txt")), "a converted model");

  @BeforeEach
  void models() throws IOException {
    model = Files.createDirectories(tmp.resolve("models/saved"));
    Files.writeString(model.resolve("saved_model.pb"), "x");
    graph = Files.writeString(tmp.resolve("models/g.pb"), "graph");
  }

  private String refusal(Path target, OutputTargets.Kind kind, boolean overwrite, List<Path> inputs) {
    return assertThrows(TftrtException.class, () -> OutputTargets.check(target, kind, overwrite, inputs, OURS))
        .getMessage();
  }

  private String folder(Path target, boolean overwrite) {
    return refusal(target, OutputTargets.Kind.FOLDER, overwrite, List.of(model));
  }

  @Test
  void anEmptyPathIsRefused() {
    assertEquals("the output path is empty: name a new file or folder to write.", folder(Path.of(""), true));
    assertEquals("the output path is empty: name a new file or folder to write.", folder(Path.of(" "), true));
  }

  @Test
  void aFilesystemRootIsRefused() {
    assertEquals("cannot write /: it is a filesystem root.", folder(Path.of("/"), true));
  }

  @Test
  void theCurrentFolderAndItsAncestorsAreRefused() {
    assertEquals("cannot write .: it is the current folder.", folder(Path.of("."), true));
    assertEquals("cannot write ..: it holds the current folder.", folder(Path.of(".."), true));
    Path cwd = Path.of("").toAbsolutePath();
    assertEquals("cannot write " + cwd + ": it is the current folder.", folder(cwd, true));
  }

  @Test
  void theHomeFolderAndItsAncestorsAreRefused() {
    Path home = Path.of(System.getProperty("user.home"));
    assertEquals("cannot write " + home + ": it is your home folder.", folder(home, true));
  }

  @Test
  void theInputItsParentAndPathsInsideItAreRefused() {
    assertEquals("cannot write " + model + ": it is the input " + model + ".", folder(model, true));
    assertEquals("cannot write " + model.getParent() + ": it holds the input " + model + ".",
        folder(model.getParent(), true));
    Path inside = model.resolve("variables");
    assertEquals("cannot write " + inside + ": it is inside the input " + model + ".", folder(inside, true));
    // A SavedModel given by its saved_model.pb protects the whole folder.
    assertEquals("cannot write " + model + ": it is the input " + model + ".",
        refusal(model, OutputTargets.Kind.FOLDER, true, OutputTargets.modelInputs(model.resolve("saved_model.pb"), null)));
  }

  @Test
  void anInputReachedThroughALinkIsRefused() throws IOException {
    Path link = Files.createSymbolicLink(tmp.resolve("link.pb"), graph);
    assertEquals("cannot write " + link + ": it is the input " + graph + ".",
        refusal(link, OutputTargets.Kind.FILE, true, List.of(graph)));
    Path hard = Files.createLink(tmp.resolve("hard.pb"), graph);
    assertEquals("cannot write " + hard + ": it is the input " + graph + ".",
        refusal(hard, OutputTargets.Kind.FILE, true, List.of(graph)));
    Path dirLink = Files.createSymbolicLink(tmp.resolve("models-link"), model.getParent());
    Path viaLink = dirLink.resolve("saved/out");
    assertEquals("cannot write " + viaLink + ": it is inside the input " + model + ".", folder(viaLink, true));
  }

  @Test
  void dotDotAfterALinkIsResolvedAsTheSystemDoes() throws IOException {
    // deep -> models/saved, so deep/../g.pb is models/g.pb (the input), not tmp/g.pb.
    Path deep = Files.createSymbolicLink(tmp.resolve("deep"), model);
    Path target = tmp.resolve("deep/../g.pb");
    assertEquals(graph.toRealPath(), OutputTargets.real(target));
    assertEquals("cannot write " + target + ": it is the input " + graph + ".",
        refusal(target, OutputTargets.Kind.FILE, true, List.of(graph)));
    // A new name below it: beside the link's target.
    assertEquals(model.getParent().toRealPath().resolve("new.pb"), OutputTargets.real(deep.resolve("../new.pb")));
  }

  @Test
  void aCheckpointsFilesAreInputsOfItsMetaFile() throws IOException {
    Path meta = Files.writeString(tmp.resolve("models/model.meta"), "m");
    Path index = Files.writeString(tmp.resolve("models/model.index"), "i");
    Path data = Files.writeString(tmp.resolve("models/model.data-00000-of-00001"), "d");
    for (Path p : List.of(meta, index, data)) {
      String m = refusal(p, OutputTargets.Kind.FILE, true, OutputTargets.modelInputs(meta, null));
      assertEquals("cannot write " + p + ": it is the input " + p + ".", m);
    }
  }

  @Test
  void aGraphsSidecarIsAnInputWithIt() throws IOException {
    Path sidecar = Files.writeString(tmp.resolve("models/g.json"), "{}");
    assertEquals("cannot write " + sidecar + ": it is the input " + sidecar + ".",
        refusal(sidecar, OutputTargets.Kind.FILE, true, OutputTargets.modelInputs(graph, null)));
  }

  @Test
  void anExistingFileIsReplacedOnlyWithOverwrite() throws IOException {
    Path out = Files.writeString(tmp.resolve("out.pb"), "old");
    assertEquals(out + " already exists: give --overwrite to replace it.",
        refusal(out, OutputTargets.Kind.FILE, false, List.of(graph)));
    assertDoesNotThrow(() -> OutputTargets.check(out, OutputTargets.Kind.FILE, true, List.of(graph), null));
    Path dir = Files.createDirectories(tmp.resolve("out.onnx"));
    assertEquals("cannot write " + dir + ": it is a folder.", refusal(dir, OutputTargets.Kind.FILE, true, List.of()));
  }

  @Test
  void aFolderOfOtherFilesIsNeverReplaced() throws IOException {
    Path out = Files.createDirectories(tmp.resolve("docs"));
    Files.writeString(out.resolve("thesis.tex"), "years of work");
    assertEquals("cannot write " + out + ": it is a folder of files tftrt did not write; name a new or empty folder.",
        folder(out, true));
    Path file = Files.writeString(tmp.resolve("notes.txt"), "n");
    assertEquals("cannot write " + file + ": it is a file, not a folder.", folder(file, true));
  }

  @Test
  void ourOwnFolderIsReplacedOnlyWithOverwrite() throws IOException {
    Path out = Files.createDirectories(tmp.resolve("converted"));
    Files.writeString(out.resolve("ours.txt"), "ours");
    assertEquals(out + " already holds a converted model: give --overwrite to replace it.", folder(out, false));
    assertDoesNotThrow(() -> OutputTargets.check(out, OutputTargets.Kind.FOLDER, true, List.of(model), OURS));
  }

  @Test
  void newTargetsAndEmptyFoldersAreWritten() throws IOException {
    assertDoesNotThrow(() -> OutputTargets.check(tmp.resolve("new"), OutputTargets.Kind.FOLDER, false, List.of(model), OURS));
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertDoesNotThrow(() -> OutputTargets.check(empty, OutputTargets.Kind.FOLDER, false, List.of(model), OURS));
    assertEquals("cannot write " + tmp.resolve("no/such/out") + ": its folder does not exist.",
        folder(tmp.resolve("no/such/out"), false));
  }
}
