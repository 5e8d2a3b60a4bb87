package dev.tftrt.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A saved case: case.json (the FuzzCase, plus the symbolic links and FIFOs it needs, which git
 * and Maven cannot carry as files) beside its in/ and out/ folders. Replaying copies it to a
 * fresh folder, so a reproducer is never changed by running it.
 */
public final class Reproducer {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Reproducer() {}

  /** Writes case.json, recording and removing links and FIFOs under dir. */
  static void writeCase(Path dir, FuzzCase c) throws IOException {
    ObjectNode n = JSON.valueToTree(c);
    ObjectNode links = n.putObject("links");
    var fifos = n.putArray("fifos");
    try (var all = Files.walk(dir)) {
      for (Path p : all.toList()) {
        String rel = dir.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          links.put(rel, Files.readSymbolicLink(p).toString());
          Files.delete(p);
        } else if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(p) && !Files.isRegularFile(p)) {
          fifos.add(rel);
          Files.delete(p);
        }
      }
    }
    Files.writeString(dir.resolve("case.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(n));
  }

  /** The case of a reproducer folder. */
  public static FuzzCase read(Path dir) {
    try {
      JsonNode n = JSON.readTree(dir.resolve("case.json").toFile());
      return new FuzzCase(n.get("id").asText(), n.get("seed").asLong(), n.get("index").asLong(), n.get("recipe").asText(),
          n.get("target").asText(), strings(n.get("args")), strings(n.get("outputs")), n.get("mutation").asText());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Why a corpus case is not expected to pass yet (the branch that fixes it), or null. */
  public static String pending(Path dir) {
    try {
      JsonNode p = JSON.readTree(dir.resolve("case.json").toFile()).get("pending");
      return p == null || p.isNull() ? null : p.asText();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The exit code a corpus case must end with (case.json's "expectExit"), or -1 for any OK one. */
  public static int expectedExit(Path dir) {
    try {
      return JSON.readTree(dir.resolve("case.json").toFile()).path("expectExit").asInt(-1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies the reproducer to caseDir with its links and FIFOs made again. */
  static void materialize(Path dir, Path caseDir) {
    try {
      FuzzFiles.deleteTree(caseDir);
      FuzzFiles.copy(dir, caseDir);
      Files.deleteIfExists(caseDir.resolve("case.json"));
      Files.deleteIfExists(caseDir.resolve("result.json"));
      Files.createDirectories(caseDir.resolve("in"));
      Files.createDirectories(caseDir.resolve("out"));
      JsonNode n = JSON.readTree(dir.resolve("case.json").toFile());
      for (var it = n.path("links").fields(); it.hasNext(); ) {
        var e = it.next();
        Files.createSymbolicLink(caseDir.resolve(e.getKey()), Path.of(e.getValue().asText()));
      }
      for (JsonNode f : n.path("fifos")) CaseGenerator.fifo(caseDir.resolve(f.asText()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> strings(JsonNode a) {
    List<String> r = new ArrayList<>();
    if (a != null) for (JsonNode x : a) r.add(x.asText());
    return r;
  }
}
