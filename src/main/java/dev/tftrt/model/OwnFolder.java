package dev.tftrt.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tftrt.util.FolderSeal;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Whether a folder is a converted model exactly as tftrt wrote it, and so may be replaced (with
 * --overwrite): its manifest is of our format and its seal ({@link FolderSeal}) lists every file
 * in it, unchanged, and nothing else. File names prove nothing: a folder holding one file of the
 * user's, or a file edited since, is not ours to delete.
 */
public final class OwnFolder {
  private OwnFolder() {}

  public static boolean isOwn(Path dir) {
    try {
      Path manifest = dir.resolve(ConvertedModel.MANIFEST);
      if (!Files.isRegularFile(manifest, LinkOption.NOFOLLOW_LINKS) || Files.size(manifest) > 64L << 20) return false;
      JsonNode m = new ObjectMapper().readTree(manifest.toFile());
      return m != null && ConvertedModel.FORMAT.equals(m.path("format").asText(null)) && FolderSeal.verify(dir);
    } catch (IOException | RuntimeException e) {
      return false; // unreadable or not JSON: not provably ours
    }
  }
}
