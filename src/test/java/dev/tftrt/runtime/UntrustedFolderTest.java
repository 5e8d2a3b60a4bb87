package dev.tftrt.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tftrt.TftrtException;
import dev.tftrt.demo.DemoModel;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.model.ConvertedModel;
import dev.tftrt.testing.Cli;
import dev.tftrt.testing.TestModels;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A converted folder is untrusted input: its manifest is validated as a whole, its paths contained. */
class UntrustedFolderTest {
  @TempDir static Path tmp;
  static Path converted;
  private static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void convertDemo() {
    Path saved = tmp.resolve("saved");
    DemoModel.save(saved, 5);
    converted = tmp.resolve("converted");
    ConvertJob.run(ConvertJob.Options.of(LoadOptions.of(saved), converted));
  }

  /** A copy of the folder with its manifest edited. */
  private static Path edited(String name, Consumer<ObjectNode> edit) throws Exception {
    Path dir = TestModels.copyTree(converted, tmp.resolve(name));
    Path m = dir.resolve(ConvertedModel.MANIFEST);
    ObjectNode root = (ObjectNode) JSON.readTree(m.toFile());
    edit.accept(root);
    Files.write(m, JSON.writeValueAsBytes(root));
    return dir;
  }

  private static ObjectNode engine(ObjectNode root) {
    return (ObjectNode) root.get("engines").get(0);
  }

  /** The engine's ONNX payload entry. */
  private static ObjectNode payload(ObjectNode root) {
    return (ObjectNode) engine(root).get("payloads").get(0);
  }

  /** The ONNX payload's file, relative to the folder. */
  private static String onnxFile() throws Exception {
    return JSON.readTree(converted.resolve(ConvertedModel.MANIFEST).toFile())
        .get("engines").get(0).get("payloads").get(0).get("file").asText();
  }

  private static String refusal(Path dir) {
    return assertThrows(TftrtException.class, () -> TftrtModel.load(dir).close()).getMessage();
  }

  @Test
  @DisplayName("an onnx path out of the folder is refused alike whether or not the outside file exists")
  void pathsOutOfTheFolder() throws Exception {
    for (String p : new String[] {"../../etc/passwd", "../../no/such/file", "/etc/passwd", "/no/such/file", "payloads/../../x"}) {
      Path dir = edited("out-" + Integer.toHexString(p.hashCode()), r -> payload(r).put("file", p));
      assertEquals(dir.resolve("tftrt.json") + " names '" + p + "' for engine 'TftrtEngine_0', which is not a file inside "
          + dir + ".", refusal(dir));
    }
  }

  @Test
  @DisplayName("a segment that is a link out of the folder (to a 3 GB file, or dangling) is refused")
  void segmentLinkedOut() throws Exception {
    Path big = tmp.resolve("big.onnx");
    try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
      f.setLength(3L << 30);
    }
    for (Path target : new Path[] {big, tmp.resolve("nothing-here")}) {
      Path dir = TestModels.copyTree(converted, tmp.resolve("link-" + target.getFileName()));
      Path seg = dir.resolve(onnxFile());
      Files.delete(seg);
      Files.createSymbolicLink(seg, target);
      assertEquals(dir.resolve("tftrt.json") + " names '" + onnxFile() + "' for engine 'TftrtEngine_0',"
          + " which is not a file inside " + dir + ".", refusal(dir));
      Cli.Result r = Cli.run("run", dir.toString(), "--random");
      assertEquals(2, r.code(), r.toString());
    }
  }

  @Test
  @DisplayName("removing the integrity entries does not turn the checks off")
  void integrityEntriesRequired() throws Exception {
    Path noHash = edited("no-hash", r -> payload(r).remove("sha256"));
    assertEquals(noHash.resolve("tftrt.json") + " has no SHA-256 for the onnx payload of engine 'TftrtEngine_0', so it"
        + " cannot be checked: convert the model again.", refusal(noHash));
    Path otherHash = edited("other-hash", r -> payload(r).put("sha256", "0".repeat(64)));
    assertEquals(otherHash.resolve(onnxFile()) + " does not match its SHA-256 in tftrt.json;"
        + " the folder has been edited: convert the model again.", refusal(otherHash));
    Path unlisted = edited("unlisted", r -> r.putArray("engines"));
    assertEquals("engine node 'TftrtEngine_0' of " + unlisted + " is not listed in its tftrt.json, so it cannot be"
        + " checked: convert the model again.", refusal(unlisted));
  }

  @Test
  @DisplayName("a manifest without engines or inputs, or naming a tensor not in the graph: one sentence, no NPE")
  void incompleteManifest() throws Exception {
    Path noEngines = edited("no-engines", r -> r.remove("engines"));
    assertEquals(noEngines.resolve("tftrt.json") + " is damaged: it has no 'engines' list.", refusal(noEngines));
    Path noInputs = edited("no-inputs", r -> r.remove("inputs"));
    assertEquals(noInputs.resolve("tftrt.json") + " is damaged: it has no 'inputs' list.", refusal(noInputs));
    Path wrongType = edited("wrong-type", r -> r.put("engines", 7));
    assertEquals(wrongType.resolve("tftrt.json") + " is damaged: it is not a valid tftrt manifest.", refusal(wrongType));
    Path noTensor = edited("no-tensor", r -> ((ObjectNode) r.get("inputs").get(0)).put("tensor", "nope:0"));
    assertEquals(noTensor.resolve("tftrt.json") + " names tensor 'nope:0' for input 'image', which the converted"
        + " graph does not have.", refusal(noTensor));
    Cli.Result r = Cli.run("run", noTensor.toString(), "--random");
    assertEquals(2, r.code(), r.toString());
    Path extra = edited("extra-engine", r2 -> ((com.fasterxml.jackson.databind.node.ArrayNode) r2.get("engines"))
        .add(engine(r2).deepCopy().put("name", "Ghost")));
    assertEquals(extra.resolve("tftrt.json") + " lists engine 'Ghost', which the converted graph does not have.", refusal(extra));
  }
}
