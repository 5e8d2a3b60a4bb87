package dev.tftrt.util;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The record of what this process created and has not yet finished with, kept where a later
 * run finds it if this one is killed outright (SIGKILL, power loss): one file per process in
 * tftrt's state folder, each line one temporary (its path, its file identity, and the target a
 * set-aside file is to go back to), then a line when it is done with.
 *
 * <p>Only what a journal names is ever cleaned up, and only while it is still the same file
 * (device and inode) that was recorded: a user's file that merely looks like one of our
 * temporaries is never touched. A journal belongs to a dead process when its lock can be
 * taken: every live process holds an exclusive lock on its own journal, and the system drops
 * it when the process ends, however it ends, so a reused process id cannot fool the check.
 *
 * <p>The state folder is {@code $TFTRT_STATE_DIR}, else the {@code tftrt.state.dir} property,
 * else {@code $XDG_STATE_HOME/tftrt}, else {@code ~/.local/state/tftrt}. Where it cannot be
 * written, nothing is journalled: a killed run's leftovers then stay (named so a user sees what
 * they are) rather than anything being removed on a guess.
 */
final class Journal {
  private Journal() {}

  private static final Logger LOG = Logger.getLogger(Journal.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SUFFIX = ".journal";

  /** This process's journal while it has open entries; guarded by InFlight.LOCK. */
  private static FileChannel channel;
  private static FileLock lock;
  private static Path file;
  /** The paths this process has journalled and not yet marked done. */
  private static final java.util.Set<Path> OPEN = new java.util.HashSet<>();

  /** The folder journals live in, or null when none can be used. */
  static Path folder() {
    String dir = System.getenv("TFTRT_STATE_DIR");
    if (dir == null || dir.isBlank()) dir = System.getProperty("tftrt.state.dir");
    Path base;
    if (dir != null && !dir.isBlank()) {
      base = Path.of(dir);
    } else {
      String xdg = System.getenv("XDG_STATE_HOME");
      String home = System.getenv("HOME");
      if (xdg != null && !xdg.isBlank()) base = Path.of(xdg, "tftrt");
      else if (home != null && !home.isBlank()) base = Path.of(home, ".local", "state", "tftrt");
      else return null;
    }
    Path f = base.toAbsolutePath().resolve("inflight");
    try {
      Files.createDirectories(f);
      return Files.isWritable(f) ? f : null;
    } catch (IOException | SecurityException e) {
      return null;
    }
  }

  /** The identity of the file or folder at p (device and inode), or null when it has none. */
  static String identity(Path p) {
    try {
      Object key = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
      return key == null ? null : key.toString();
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Records, before path is created, that this process is about to create it (a name with a
   * random part no other file has); {@link #identify} adds its identity once it exists. A run
   * killed in between leaves an entry without identity, trusted only for a file at exactly that
   * name last modified no earlier than the record.
   */
  static void intend(Path path) {
    ObjectNode line = JSON.createObjectNode();
    line.put("add", path.toAbsolutePath().toString());
    line.put("at", System.currentTimeMillis());
    if (append(line)) OPEN.add(path.toAbsolutePath());
  }

  /** The identity of path, created since {@link #intend}. */
  static void identify(Path path) {
    String id = identity(path);
    if (id == null || channel == null || !OPEN.contains(path.toAbsolutePath())) return;
    ObjectNode line = JSON.createObjectNode();
    line.put("add", path.toAbsolutePath().toString());
    line.put("id", id);
    append(line);
  }

  /**
   * Records that path is ours while it has identity id (a set-aside target gets its target's
   * identity before the move, which keeps it); restoreTo: where it goes back, or null.
   */
  static void add(Path path, String id, Path restoreTo) {
    if (id == null) return;
    ObjectNode line = JSON.createObjectNode();
    line.put("add", path.toAbsolutePath().toString());
    line.put("id", id);
    if (restoreTo != null) line.put("restore", restoreTo.toAbsolutePath().toString());
    if (append(line)) OPEN.add(path.toAbsolutePath());
  }

  /** Records that path is no longer a temporary of ours (moved into place or removed). */
  static void done(Path path) {
    if (channel == null || !OPEN.remove(path.toAbsolutePath())) return;
    ObjectNode line = JSON.createObjectNode();
    line.put("done", path.toAbsolutePath().toString());
    if (append(line) && OPEN.isEmpty()) close(true);
  }

  private static boolean append(ObjectNode line) {
    try {
      if (channel == null && !openOwn()) return false;
      byte[] bytes = (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
      ByteBuffer b = ByteBuffer.wrap(bytes);
      while (b.hasRemaining()) channel.write(b);
      channel.force(false); // on disk before the temporary can outlive us
      return true;
    } catch (IOException e) {
      LOG.log(Level.FINE, "cannot journal a temporary", e);
      return false;
    }
  }

  private static boolean openOwn() throws IOException {
    Path dir = folder();
    if (dir == null) return false;
    Path f = dir.resolve(ProcessHandle.current().pid() + "-"
        + String.format("%08x", ThreadLocalRandom.current().nextInt()) + SUFFIX);
    FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND);
    FileLock l = ch.tryLock();
    if (l == null) {
      ch.close();
      return false;
    }
    channel = ch;
    lock = l;
    file = f;
    return true;
  }

  private static void close(boolean delete) {
    try {
      if (delete && file != null) Files.deleteIfExists(file); // removed while still locked: nobody replays it
      if (lock != null) lock.release();
      if (channel != null) channel.close();
    } catch (IOException e) {
      LOG.log(Level.FINE, "cannot close the journal", e);
    }
    channel = null;
    lock = null;
    file = null;
    OPEN.clear();
  }

  /**
   * Cleans up after every dead process's journal: each temporary it left is removed, and each
   * target it had set aside is put back where its replacement never arrived; an entry whose
   * path now holds a different file is left alone. Returns the paths it removed or put back.
   */
  static List<Path> recover() {
    List<Path> acted = new ArrayList<>();
    Path dir = folder();
    if (dir == null) return acted;
    List<Path> journals;
    try (var list = Files.list(dir)) {
      journals = list.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).toList();
    } catch (IOException e) {
      return acted;
    }
    for (Path j : journals) {
      if (j.equals(file)) continue;
      try (FileChannel ch = FileChannel.open(j, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        FileLock l;
        try {
          l = ch.tryLock();
        } catch (OverlappingFileLockException e) {
          continue; // held by this JVM
        }
        if (l == null) continue; // its process is alive
        try {
          replay(j, acted);
          Files.deleteIfExists(j);
        } finally {
          l.release();
        }
      } catch (IOException e) {
        LOG.log(Level.FINE, "cannot recover " + j, e);
      }
    }
    return acted;
  }

  /** The entries of journal j still open, in order: path -> [identity, restoreTo, intended-at], each or null. */
  static Map<Path, String[]> openEntries(Path j) throws IOException {
    Map<Path, String[]> entries = new LinkedHashMap<>();
    for (String line : Files.readAllLines(j, StandardCharsets.UTF_8)) {
      JsonNode n;
      try {
        n = JSON.readTree(line);
      } catch (IOException e) {
        continue; // a line cut short by the crash: nothing was created after it
      }
      if (n == null) continue;
      if (n.hasNonNull("add")) {
        Path p = Path.of(n.get("add").asText());
        String[] e = entries.computeIfAbsent(p, k -> new String[3]);
        if (n.hasNonNull("id")) e[0] = n.get("id").asText();
        if (n.hasNonNull("restore")) e[1] = n.get("restore").asText();
        if (n.hasNonNull("at")) e[2] = n.get("at").asText();
      } else if (n.hasNonNull("done")) {
        entries.remove(Path.of(n.get("done").asText()));
      }
    }
    return entries;
  }

  private static boolean stillOurs(Path p, String[] entry) {
    if (entry[0] != null) return entry[0].equals(identity(p));
    if (entry[2] == null) return false;
    try { // created (or not) just before the crash: only a file modified since the record
      long at = Long.parseLong(entry[2]);
      return Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis() >= at - 2_000;
    } catch (IOException | NumberFormatException e) {
      return false;
    }
  }

  private static void replay(Path j, List<Path> acted) throws IOException {
    for (Map.Entry<Path, String[]> e : openEntries(j).entrySet()) {
      Path p = e.getKey();
      if (!stillOurs(p, e.getValue())) continue; // gone, or no longer the file we made
      Path restore = e.getValue()[1] == null ? null : Path.of(e.getValue()[1]);
      if (restore != null && !Files.exists(restore, LinkOption.NOFOLLOW_LINKS)) {
        AtomicFiles.quietly(() -> AtomicFiles.move(p, restore)); // died between setting aside and replacing
      } else {
        AtomicFiles.quietly(() -> AtomicFiles.deleteTree(p));
      }
      acted.add(p);
    }
  }
}
