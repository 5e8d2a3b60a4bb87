package dev.tftrt.splice;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Set;

/**
 * Whether a folder is a converted model exactly as convert writes it, and so may be replaced
 * (with --overwrite): a tftrt.json of our format and nothing convert does not write, so that no
 * file of the user's is lost with it. Links count as foreign: they may lead anywhere.
 */
public final class OwnFolder {
  private OwnFolder() {}

  /**
   * What convert writes into OUTDIR (payloads/ holds only payload files), and what format 1 also
   * wrote (converted.pb/.json, segments/ of .onnx files), so an old conversion can be replaced.
   */
  public static final Set<String> FILES = Set.of(ConvertedModel.MANIFEST, "saved_model.pb", "converted.pb",
      "converted.json", "frozen.pb", "frozen.json", "segments", Payloads.FOLDER, "report.json", "report.md");

  public static boolean isOwn(Path dir) {
    try (var list = Files.list(dir)) {
      for (Path p : list.toList()) {
        String name = p.getFileName().toString();
        if (!FILES.contains(name) || Files.isSymbolicLink(p)) return false;
        boolean ok = name.equals("segments") ? onlyFiles(p, "[^/]+\\.onnx")
            : name.equals(Payloads.FOLDER) ? onlyFiles(p, "[0-9a-f]{64}\\.[a-z]+")
            : Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS);
        if (!ok) return false;
      }
      JsonNode m = new ObjectMapper().readTree(dir.resolve(ConvertedModel.MANIFEST).toFile());
      return m != null && ConvertedModel.FORMAT.equals(m.path("format").asText(null));
    } catch (IOException | RuntimeException e) {
      return false; // unreadable or not JSON: not provably ours
    }
  }

  private static boolean onlyFiles(Path folder, String namePattern) throws IOException {
    if (!Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS)) return false;
    try (var list = Files.list(folder)) {
      return list.allMatch(s -> s.getFileName().toString().matches(namePattern)
          && Files.isRegularFile(s, LinkOption.NOFOLLOW_LINKS));
    }
  }
}
