package dev.tftrt.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32;

/** File helpers of the harness: copying seeds, snapshots to compare before and after a case. */
public final class FuzzFiles {
  private FuzzFiles() {}

  /** Deletes a tree without following symbolic links (cases plant links to outside files). */
  public static void deleteTree(Path p) {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
    try {
      Files.walkFileTree(p, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
          Files.delete(f);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
          Files.delete(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies a file or tree; copies are writable (the shared models are read-only). */
  public static void copy(Path from, Path to) {
    try {
      if (Files.isDirectory(from)) {
        try (var all = Files.walk(from)) {
          for (Path p : all.toList()) {
            Path t = to.resolve(from.relativize(p).toString());
            if (Files.isDirectory(p)) Files.createDirectories(t);
            else copyFile(p, t);
          }
        }
      } else {
        Files.createDirectories(to.getParent());
        copyFile(from, to);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void copyFile(Path from, Path to) throws IOException {
    Files.copy(from, to);
    to.toFile().setWritable(true, true);
  }

  /**
   * Every entry under dir (links not followed) → its type and, for files, size and CRC: what a
   * case must leave as it found it.
   */
  public static Map<String, String> snapshot(Path dir) {
    Map<String, String> r = new TreeMap<>();
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return r;
    try (var all = Files.walk(dir)) {
      for (Path p : all.toList()) {
        String rel = dir.relativize(p).toString();
        if (Files.isSymbolicLink(p)) r.put(rel, "link " + Files.readSymbolicLink(p));
        else if (Files.isDirectory(p)) r.put(rel, "dir");
        else if (Files.isRegularFile(p)) r.put(rel, "file " + Files.size(p) + " " + crc(p));
        else r.put(rel, "special");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return r;
  }

  private static long crc(Path p) throws IOException {
    CRC32 c = new CRC32();
    try (var in = Files.newInputStream(p)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) c.update(buf, 0, n);
    }
    return c.getValue();
  }

  public static void write(Path p, byte[] b) {
    try {
      Files.createDirectories(p.getParent());
      Files.write(p, b);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
