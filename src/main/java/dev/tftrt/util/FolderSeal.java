package dev.tftrt.util;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The list of every file tftrt wrote into an output folder, with its SHA-256, kept in the folder
 * as {@value #NAME} in {@code sha256sum} format (so {@code sha256sum -c tftrt.sha256} checks it
 * too). It is how a later run knows a folder is entirely its own output and may be replaced:
 * the folder must hold exactly the listed files, unchanged, and nothing else (no links, no extra
 * files); folders, which hold no data of their own, need no listing. A folder with a file of the user's in it, or one edited since, is
 * not tftrt's to delete, whatever its files are called.
 */
public final class FolderSeal {
  private FolderSeal() {}

  public static final String NAME = "tftrt.sha256";
  /** More files than an output folder of ours ever has: past this, it is not ours. */
  private static final int MAX_FILES = 100_000;

  /** Writes dir's seal, listing every regular file now in it. */
  public static void seal(Path dir) throws IOException {
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, String> e : listing(dir).entrySet()) {
      b.append(e.getValue()).append("  ").append(e.getKey()).append('\n');
    }
    Files.writeString(dir.resolve(NAME), b.toString(), StandardCharsets.UTF_8);
  }

  /** Whether dir holds exactly the files its seal lists, each with its listed content. */
  public static boolean verify(Path dir) {
    try {
      Path seal = dir.resolve(NAME);
      if (!Files.isRegularFile(seal, LinkOption.NOFOLLOW_LINKS) || Files.size(seal) > 64L << 20) return false;
      Map<String, String> listed = new TreeMap<>();
      for (String line : Files.readAllLines(seal, StandardCharsets.UTF_8)) {
        int sep = line.indexOf("  ");
        if (sep != 64) return false;
        listed.put(line.substring(sep + 2), line.substring(0, sep));
      }
      return listed.equals(listing(dir));
    } catch (IOException | RuntimeException e) {
      return false; // unreadable, odd or foreign: not provably ours
    }
  }

  /**
   * Changes a folder that is verifiably ours (adding a file to it, say) and seals it again, so it
   * stays replaceable; a folder that is not ours is left unsealed, as it was.
   */
  public static void update(Path dir, AtomicFiles.FolderWriter change) throws IOException {
    boolean ours = verify(dir);
    change.fill(dir);
    if (ours) seal(dir);
  }

  /**
   * Relative path -> SHA-256 of every regular file under dir but the seal. Throws when there is
   * anything a seal cannot vouch for: a link, a special file, too many files.
   */
  private static Map<String, String> listing(Path dir) throws IOException {
    Map<String, String> r = new TreeMap<>();
    try (var walk = Files.walk(dir)) { // links are not followed, and are refused below
      for (Path p : (Iterable<Path>) walk::iterator) {
        if (p.equals(dir)) continue;
        String rel = dir.relativize(p).toString();
        if (Files.isSymbolicLink(p)) throw new IOException("link " + rel);
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) continue; // a folder holds no data of its own
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) throw new IOException("special file " + rel);
        if (rel.equals(NAME)) continue;
        if (rel.indexOf('\n') >= 0) throw new IOException("odd name"); // a seal line could not hold it
        if (r.size() >= MAX_FILES) throw new IOException("too many files");
        r.put(rel, Sha256.hex(p));
      }
    }
    return r;
  }

}
