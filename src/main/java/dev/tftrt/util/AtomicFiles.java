package dev.tftrt.util;

import dev.tftrt.TftrtException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
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
 *
 * <p>Temporary names are {@code .NAME.tftrt-PID-RAND.tmp} (set-aside targets {@code .old}), so a
 * user sees what they are; long names are shortened with a hash so they fit in 255 bytes. A name
 * is never the reason anything is removed: a run killed outright (SIGKILL, power loss) is
 * cleaned up after by the next write from what its {@link Journal} recorded, and only that.
 * While a write is under way its temporaries are listed in {@link InFlight}, which an
 * interrupted process empties before it exits.
 */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Linux NAME_MAX; a target name this long still gets a temporary name that fits. */
  static final int NAME_MAX = 255;
  /** Names longer than this (UTF-8 bytes) are shortened in temporary names. */
  private static final int SHORT_NAME_BYTES = 160;
  private static final String MARK = ".tftrt-";

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
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
          throw new TftrtException("cannot write " + e.getKey() + ": it is a folder.");
        }
        InFlight.recoverKilledRuns();
        Path t = sibling(target, "tmp");
        Path tmp = InFlight.begin(t, null, () -> Files.createFile(t));
        temps.put(target, tmp);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
          OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16);
          e.getValue().writeTo(out);
          out.flush();
          ch.force(true); // on disk before it replaces anything
        }
      }
      synchronized (InFlight.LOCK) { // an interruption waits until every target is in place or back
        InFlight.checkNotInterrupted();
        for (Path target : temps.keySet()) {
          current = target;
          if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            Path bak = InFlight.begin(sibling(target, "old"), target, () -> {});
            move(target, bak);
            backups.put(target, bak);
          }
        }
        for (Map.Entry<Path, Path> e : temps.entrySet()) {
          current = e.getKey();
          move(e.getValue(), e.getKey());
          placed.add(e.getKey());
        }
        for (Path tmp : temps.values()) InFlight.end(tmp);
        for (Path target : placed) InFlight.placed(target);
        temps.clear();
        for (Path bak : backups.values()) {
          Files.deleteIfExists(bak);
          InFlight.end(bak);
        }
        backups.clear();
      }
    } catch (IOException e) {
      throw new TftrtException("cannot write " + current + ": " + reason(e) + ".", e);
    } finally {
      // On failure: remove what was placed, put the old files back, drop the temporaries.
      if (!temps.isEmpty() || !backups.isEmpty()) {
        synchronized (InFlight.LOCK) {
          for (Path p : placed) quietly(() -> Files.deleteIfExists(p));
          for (Map.Entry<Path, Path> b : backups.entrySet()) {
            quietly(() -> move(b.getValue(), b.getKey()));
            InFlight.end(b.getValue());
          }
          for (Path tmp : temps.values()) {
            quietly(() -> Files.deleteIfExists(tmp));
            InFlight.end(tmp);
          }
        }
      }
    }
  }

  /** Fills a folder. */
  @FunctionalInterface
  public interface FolderWriter {
    void fill(Path folder) throws IOException;
  }

  /**
   * Writes a whole folder: filled under a hidden temporary name beside target, sealed (see
   * {@link FolderSeal}), then moved into place; an existing target is replaced only once the new
   * one is complete, and is put back if the move fails.
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
      InFlight.recoverKilledRuns();
      Path t = sibling(abs, "tmp");
      tmp = InFlight.begin(t, null, () -> Files.createDirectory(t));
      writer.fill(tmp);
      FolderSeal.seal(tmp); // what makes it provably ours later, and replaceable
      synchronized (InFlight.LOCK) {
        InFlight.checkNotInterrupted();
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
          Path o = sibling(abs, "old");
          old = InFlight.begin(o, abs, () -> {});
          move(abs, old);
        }
        move(tmp, abs);
        InFlight.end(tmp);
        InFlight.placed(abs);
        done = true;
      }
    } catch (IOException e) {
      throw new TftrtException("cannot write " + target + ": " + reason(e) + ".", e);
    } finally {
      synchronized (InFlight.LOCK) {
        if (!done) {
          Path t = tmp;
          Path o = old;
          if (o != null && !Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) quietly(() -> move(o, abs));
          if (t != null) quietly(() -> deleteTree(t));
        } else if (old != null) {
          Path o = old;
          quietly(() -> deleteTree(o));
        }
        if (tmp != null) InFlight.end(tmp);
        if (old != null) InFlight.end(old);
      }
    }
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
    try (var walk = Files.walk(p)) { // does not follow links: a link is removed, never its target
      for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(x);
    }
  }

  /**
   * The start of every temporary name for target: "." and its name, shortened with a hash when
   * long, then the marker. Stable for one target, so a later run finds an earlier run's leftovers.
   */
  static String tempPrefix(Path target) {
    String name = target.getFileName().toString();
    byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
    if (utf8.length > SHORT_NAME_BYTES) {
      int cut = 0;
      int bytes = 0;
      while (cut < name.length()) { // whole code points, at most 96 bytes
        int cp = name.codePointAt(cut);
        int n = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
        if (bytes + n > 96) break;
        bytes += n;
        cut += Character.charCount(cp);
      }
      name = name.substring(0, cut) + "~" + Sha256.hex(utf8).substring(0, 16);
    }
    return "." + name + MARK;
  }

  private static Path sibling(Path target, String kind) throws IOException {
    String prefix = tempPrefix(target) + ProcessHandle.current().pid() + "-";
    for (int i = 0; i < 100; i++) {
      Path p = target.resolveSibling(prefix + String.format("%08x",
          ThreadLocalRandom.current().nextInt()) + "." + kind);
      if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return p;
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

  interface IoAction {
    void run() throws IOException;
  }

  static void quietly(IoAction a) {
    try {
      a.run();
    } catch (IOException ignored) {
      // best effort while already failing: the first error is the one reported
    }
  }

  static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
