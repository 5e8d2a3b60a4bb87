package dev.tftrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.demo.DemoModel;
import dev.tftrt.model.OwnFolder;
import dev.tftrt.testing.Cli;
import dev.tftrt.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every writing command refuses, in one sentence and exit 2, to write where it would destroy
 * what it did not write, and leaves the refused path exactly as it was.
 */
class OutputSafetyCliTest {
  @TempDir static Path shared;
  static Path model;      // the demo SavedModel
  static Path frozen;     // its frozen graph
  static String modelHash;

  @TempDir Path tmp;

  @BeforeAll
  static void models() {
    model = shared.resolve("models/demo");
    DemoModel.save(model, 3);
    frozen = shared.resolve("models/demo.pb");
    Cli.Result r = Cli.run("freeze", model.toString(), "-o", frozen.toString(), "--no-verify");
    assertEquals(0, r.code(), r.toString());
    modelHash = treeHash(shared.resolve("models"));
  }

  @BeforeEach
  void modelsUntouchedBefore() {
    assertEquals(modelHash, treeHash(shared.resolve("models")));
  }

  /** Every path under dir with the SHA-256 of each file: any change shows. */
  static String treeHash(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (Path p : s.sorted().toList()) {
        md.update(dir.relativize(p).toString().getBytes());
        if (Files.isRegularFile(p)) md.update(Files.readAllBytes(p));
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static void refused(String sentence, Cli.Result r) {
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: " + sentence + "\n", r.err(), r.toString());
    assertEquals(modelHash, treeHash(shared.resolve("models")), "an input was changed");
  }

  @Test
  void convertToAnEmptyPathIsRefused() {
    String cwd = treeHash(Path.of("src"));
    refused("the output path is empty: name a new file or folder to write.",
        Cli.run("convert", model.toString(), "-o", ""));
    assertEquals(cwd, treeHash(Path.of("src")));
  }

  @Test
  void convertOntoItsInputOrTheInputsFolderIsRefused() {
    refused("cannot write " + model + ": it is the input " + model + ".",
        Cli.run("convert", model.toString(), "-o", model.toString(), "--overwrite"));
    refused("cannot write " + model.getParent() + ": it holds the input " + model + ".",
        Cli.run("convert", model.toString(), "-o", model.getParent().toString(), "--overwrite"));
    Path inside = model.resolve("variables");
    refused("cannot write " + inside + ": it is inside the input " + model + ".",
        Cli.run("convert", model.toString(), "-o", inside.toString(), "--overwrite"));
    refused("cannot write " + model + ": it is the input " + model + ".",
        Cli.run("convert", model.resolve("saved_model.pb").toString(), "-o", model.toString(), "--overwrite"));
  }

  @Test
  void convertIntoAFolderOfOtherFilesIsRefusedEvenWithOverwrite() throws IOException {
    Path docs = Files.createDirectories(tmp.resolve("docs/sub"));
    Files.writeString(docs.resolve("thesis.tex"), "years of work");
    String before = treeHash(tmp);
    refused("cannot write " + docs.getParent() + ": it is a folder of files tftrt did not write; name a new or empty folder.",
        Cli.run("convert", model.toString(), "-o", docs.getParent().toString(), "--overwrite"));
    assertEquals(before, treeHash(tmp));
    refused("cannot write /: it is a filesystem root.", Cli.run("convert", model.toString(), "-o", "/", "--overwrite"));
    refused("cannot write .: it is the current folder.", Cli.run("convert", model.toString(), "-o", ".", "--overwrite"));
  }

  @Test
  void anExistingConvertedFolderIsReplacedOnlyWithOverwrite() throws IOException {
    Path out = tmp.resolve("conv");
    assertEquals(0, Cli.run("convert", model.toString(), "-o", out.toString(), "--no-verify").code());
    assertTrue(OwnFolder.isOwn(out));
    String before = treeHash(tmp);
    refused(out + " already holds a converted model: give --overwrite to replace it.",
        Cli.run("convert", model.toString(), "-o", out.toString()));
    assertEquals(before, treeHash(tmp));

    // A file of the user's inside makes it no longer only ours.
    Files.writeString(out.resolve("notes.txt"), "mine");
    String withNotes = treeHash(tmp);
    refused("cannot write " + out + ": it is a folder of files tftrt did not write; name a new or empty folder.",
        Cli.run("convert", model.toString(), "-o", out.toString(), "--overwrite"));
    assertEquals(withNotes, treeHash(tmp));
    Files.delete(out.resolve("notes.txt"));
    // Nor is it once a file tftrt wrote has been edited (names alone prove nothing).
    Path report = out.resolve("report.md");
    String original = Files.readString(report);
    Files.writeString(report, original + "my notes on this conversion\n");
    refused("cannot write " + out + ": it is a folder of files tftrt did not write; name a new or empty folder.",
        Cli.run("convert", model.toString(), "-o", out.toString(), "--overwrite"));
    Files.writeString(report, original);

    Cli.Result r = Cli.run("convert", model.toString(), "-o", out.toString(), "--overwrite", "--no-verify");
    assertEquals(0, r.code(), r.toString());
    assertTrue(OwnFolder.isOwn(out));
    assertEquals(List.of("conv"), TestModels.listing(tmp)); // no temporaries or set-aside copies
  }

  @Test
  void freezeReplacesAnExistingGraphOrSidecarOnlyWithOverwrite() throws IOException {
    Path out = tmp.resolve("f.pb");
    Files.writeString(out, "someone's file");
    refused(out + " already exists: give --overwrite to replace it.",
        Cli.run("freeze", model.toString(), "-o", out.toString(), "--no-verify"));
    assertEquals("someone's file", Files.readString(out));
    Files.delete(out);
    Path sidecar = Files.writeString(tmp.resolve("f.json"), "{\"mine\": true}");
    refused(sidecar + " already exists: give --overwrite to replace it.",
        Cli.run("freeze", model.toString(), "-o", out.toString(), "--no-verify"));
    assertEquals(List.of("f.json"), TestModels.listing(tmp));
    Cli.Result r = Cli.run("freeze", model.toString(), "-o", out.toString(), "--no-verify", "--overwrite");
    assertEquals(0, r.code(), r.toString());
    assertEquals(List.of("f.json", "f.pb"), TestModels.listing(tmp));
  }

  @Test
  void freezeExportAndRunNeverWriteOverTheirInput() throws IOException {
    refused("cannot write " + frozen + ": it is the input " + frozen + ".",
        Cli.run("freeze", frozen.toString(), "-o", frozen.toString(), "--overwrite", "--no-verify"));
    Path link = Files.createSymbolicLink(tmp.resolve("link.onnx"), frozen);
    refused("cannot write " + link + ": it is the input " + frozen + ".",
        Cli.run("export-onnx", frozen.toString(), "-o", link.toString(), "--overwrite", "--no-verify"));
    Path feeds = tmp.resolve("x.npy");
    assertEquals(0, Cli.run("run", frozen.toString(), "--random", "--shape", "image=1,16,16,3", "-o",
        tmp.resolve("o.npz").toString()).code());
    refused(tmp.resolve("o.npz") + " already exists: give --overwrite to replace it.",
        Cli.run("run", frozen.toString(), "--random", "--shape", "image=1,16,16,3", "-o", tmp.resolve("o.npz").toString()));
    refused("cannot write " + tmp.resolve("o.npz") + ": it is the input " + tmp.resolve("o.npz") + ".",
        Cli.run("run", frozen.toString(), "--input", tmp.resolve("o.npz").toString(), "--random", "--shape",
            "image=1,16,16,3", "-o", tmp.resolve("o.npz").toString(), "--overwrite"));
    assertTrue(Files.notExists(feeds));
    Path sidecar = tmp.resolve("x.json");
    refused("cannot write " + sidecar + ": it is where its own .json sidecar would go; name the frozen graph NAME.pb.",
        Cli.run("freeze", model.toString(), "-o", sidecar.toString(), "--no-verify"));
  }

  @Test
  void exportReplacesAnExistingFileOnlyWithOverwrite() throws IOException {
    Path out = Files.writeString(tmp.resolve("m.onnx"), "old");
    refused(out + " already exists: give --overwrite to replace it.",
        Cli.run("export-onnx", frozen.toString(), "-o", out.toString(), "--no-verify"));
    assertEquals("old", Files.readString(out));
    Cli.Result r = Cli.run("export-onnx", frozen.toString(), "-o", out.toString(), "--no-verify", "--overwrite");
    assertEquals(0, r.code(), r.toString());
    assertTrue(Files.size(out) > 1000);
  }

  @Test
  void demoWritesOnlyIntoANewOrEmptyFolder() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("d"));
    Files.writeString(dir.resolve("keep.txt"), "keep");
    refused("cannot write " + dir + ": it is a folder of files tftrt did not write; name a new or empty folder.",
        Cli.run("demo", "--dir", dir.toString()));
    assertEquals(List.of("keep.txt"), TestModels.listing(dir));
    refused("cannot write .: it is the current folder.", Cli.run("demo", "--dir", "."));
  }
}
