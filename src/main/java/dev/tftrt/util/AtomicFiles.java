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
