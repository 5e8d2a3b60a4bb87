package dev.tftrt.util;

import dev.tftrt.TftrtException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes files so that a failure leaves nothing half-written: each file goes to a hidden
 * temporary name in its target's folder; once all are complete, existing targets are set aside,
 * the new files moved into place, and only then the old ones deleted. If any step fails, the
 * old targets are put back. Files get the usual permissions (umask), not a temp file's 0600.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  @FunctionalInterface
  public interface Writer {
    void writeTo(OutputStream out) throws IOException;
  }

  public static void write(Path target, byte[] bytes) {
    write(Map.of(target, out -> out.write(bytes)));
  }

  public static void write(Path target, Writer writer) {
    write(Map.of(target, writer));
  }

  /** Writes all targets, or none of them (the previous contents of each stay). */
  public static void write(Map<Path, Writer> targets) {
    Map<Path, Path> temps = new LinkedHashMap<>();   // target -> new content
    Map<Path, Path> backups = new LinkedHashMap<>(); // target -> its old content, set aside
    List<Path> placed = new ArrayList<>();
    Path current = null;
    try {
      for (Map.Entry<Path, Writer> e : targets.entrySet()) {
        current = e.getKey();
        Path target = e.getKey().toAbsolutePath();
        Path dir = target.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
          throw new TftrtException("cannot write " + e.getKey() + ": its folder does not exist.");
        }
        if (Files.isDirectory(target)) {
          throw new TftrtException("cannot write " + e.getKey() + ": it is a folder.");
        }
        Path tmp = sibling(target, "tmp");
        temps.put(target, tmp);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
          e.getValue().writeTo(out);
          out.flush();
          ch.force(true); // on disk before it replaces anything
        }
      }
      for (Path target : temps.keySet()) {
        current = target;
        if (Files.exists(target)) {
          Path bak = sibling(target, "old");
          move(target, bak);
          backups.put(target, bak);
        }
      }
      for (Map.Entry<Path, Path> e : temps.entrySet()) {
        current = e.getKey();
        move(e.getValue(), e.getKey());
        placed.add(e.getKey());
      }
      temps.clear();
      for (Path bak : backups.values()) Files.deleteIfExists(bak);
      backups.clear();
    } catch (IOException e) {
      throw new TftrtException("cannot write " + current + ": " + reason(e) + ".", e);
    } finally {
      // On failure: remove what was placed, put the old files back, drop the temporaries.
      if (!temps.isEmpty() || !backups.isEmpty()) {
        for (Path p : placed) quietly(() -> Files.deleteIfExists(p));
        for (Map.Entry<Path, Path> b : backups.entrySet()) quietly(() -> move(b.getValue(), b.getKey()));
        for (Path tmp : temps.values()) quietly(() -> Files.deleteIfExists(tmp));
      }
    }
  }

  /** Fills a folder. */
  @FunctionalInterface
  public interface FolderWriter {
    void fill(Path folder) throws IOException;
  }

  /**
   * Writes a whole folder: filled under a hidden temporary name beside target, then moved into
   * place; an existing target is replaced only once the new one is complete, and is put back if
   * the move fails.
   */
  public static void writeFolder(Path target, FolderWriter writer) {
    Path abs = target.toAbsolutePath();
    Path parent = abs.getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw new TftrtException("cannot write " + target + ": its folder does not exist.");
    }
    if (Files.exists(abs) && !Files.isDirectory(abs)) {
      throw new TftrtException("cannot write " + target + ": it is a file, not a folder.");
    }
    Path tmp = null;
    Path old = null;
    boolean done = false;
    try {
      tmp = sibling(abs, "tmp");
      Files.createDirectory(tmp);
      writer.fill(tmp);
      if (Files.exists(abs)) {
        old = sibling(abs, "old");
        move(abs, old);
      }
      move(tmp, abs);
      done = true;
    } catch (IOException e) {
      throw new TftrtException("cannot write " + target + ": " + reason(e) + ".", e);
    } finally {
      if (!done) {
        Path t = tmp;
        Path o = old;
        if (o != null && !Files.exists(abs)) quietly(() -> move(o, abs));
        if (t != null) quietly(() -> deleteTree(t));
      } else if (old != null) {
        Path o = old;
        quietly(() -> deleteTree(o));
      }
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) return;
    try (var walk = Files.walk(p)) {
      for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(x);
    }
  }

  private static Path sibling(Path target, String kind) throws IOException {
    for (int i = 0; i < 100; i++) {
      Path p = target.resolveSibling("." + target.getFileName() + "." + Long.toHexString(
          ThreadLocalRandom.current().nextLong() & 0xffffffffL) + "." + kind);
      if (!Files.exists(p)) return p;
    }
    throw new FileAlreadyExistsException(target + " (no free temporary name)");
  }

  /** An I/O failure as a phrase fit for the end of a sentence. */
  public static String reason(IOException e) {
    if (e instanceof java.nio.file.AccessDeniedException) return "permission denied";
    if (e instanceof java.nio.file.DirectoryNotEmptyException) return "a non-empty folder is in the way";
    String r = e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason() : e.getMessage();
    if (r == null || r.isBlank()) r = e.getClass().getSimpleName();
    r = r.strip();
    return r.endsWith(".") ? r.substring(0, r.length() - 1) : r;
  }

  private interface IoAction {
    void run() throws IOException;
  }

  private static void quietly(IoAction a) {
    try {
      a.run();
    } catch (IOException ignored) {
      // best effort while already failing: the first error is the one reported
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
