package dev.tftrt.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What this process is writing right now and has not yet put in place: temporary files and
 * folders, set-aside targets, scratch folders. An interrupted process (Ctrl-C, SIGTERM) calls
 * {@link #abandon()} so that nothing it wrote stays behind and every set-aside target is back.
 */
public final class InFlight {
  private InFlight() {}

  /** Held while temporaries become targets, so an interruption sees either before or after. */
  static final Object LOCK = new Object();
  /** temporary -> the target to put it back as when abandoned (null: delete it). */
  private static final Map<Path, Path> ENTRIES = new LinkedHashMap<>();
  private static boolean abandoned;
  /** Targets this process has put in place (complete), in order. */
  private static final java.util.List<Path> PLACED = new ArrayList<>();

  /** Registers temp, then creates it (so an interruption never misses one it has not seen). */
  static Path begin(Path temp, Path restoreTo, AtomicFiles.IoAction create) throws IOException {
    synchronized (LOCK) {
      checkNotInterrupted();
      ENTRIES.put(temp, restoreTo);
      // Journalled before it exists, so a run killed at any moment leaves nothing unrecorded. A
      // set-aside target is about to be moved to temp: it keeps the target's identity.
      if (restoreTo != null) Journal.add(temp, Journal.identity(restoreTo), restoreTo);
      else Journal.intend(temp);
      try {
        create.run();
      } catch (IOException | RuntimeException e) {
        ENTRIES.remove(temp);
        Journal.done(temp);
        throw e;
      }
      if (restoreTo == null) Journal.identify(temp);
      return temp;
    }
  }

  static void placed(Path target) {
    synchronized (LOCK) {
      PLACED.add(target);
    }
  }

  /** What this process has put in place so far (complete outputs). */
  public static java.util.List<Path> placed() {
    synchronized (LOCK) {
      return java.util.List.copyOf(PLACED);
    }
  }

  static void end(Path temp) {
    synchronized (LOCK) {
      ENTRIES.remove(temp);
      Journal.done(temp);
    }
  }

  static void checkNotInterrupted() throws IOException {
    if (abandoned) throw new IOException("interrupted");
  }

  /** A folder this run created for its own output, removed if the run is interrupted. */
  public static void removeOnInterrupt(Path folder) {
    synchronized (LOCK) {
      Path abs = folder.toAbsolutePath();
      ENTRIES.put(abs, null);
      Journal.add(abs, Journal.identity(abs), null);
    }
  }

  /**
   * Cleans up what killed runs of tftrt left behind (see {@link Journal}): only files they
   * recorded as their own temporaries, and only while still the same files. Returns the paths.
   */
  public static java.util.List<Path> recoverKilledRuns() {
    synchronized (LOCK) {
      return Journal.recover();
    }
  }

  /** The run finished with folder: keep it. */
  public static void keep(Path folder) {
    end(folder.toAbsolutePath());
  }

  /**
   * The writing thread is still running (it may be creating a file in temp right now, or a
   * folder that brings temp back), so delete until temp stays gone for a moment; at most ~2 s.
   */
  private static void deleteUntilGone(Path temp) {
    for (int round = 0; round < 40; round++) {
      AtomicFiles.quietly(() -> AtomicFiles.deleteTree(temp));
      try {
        Thread.sleep(round == 0 ? 20 : 50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (!Files.exists(temp, LinkOption.NOFOLLOW_LINKS)) return;
    }
  }

  /** Accepts writes again after {@link #abandon()} (tests, which abandon in-process). */
  static void reset() {
    synchronized (LOCK) {
      abandoned = false;
    }
  }

  /**
   * Removes every temporary, puts back every set-aside target, and refuses further writes.
   * Returns how many entries there were.
   */
  public static int abandon() {
    synchronized (LOCK) {
      abandoned = true;
      int n = ENTRIES.size();
      for (Map.Entry<Path, Path> e : new ArrayList<>(ENTRIES.entrySet())) {
        Path temp = e.getKey();
        Path target = e.getValue();
        if (target != null && !Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
          AtomicFiles.quietly(() -> AtomicFiles.move(temp, target));
        } else {
          deleteUntilGone(temp);
        }
        Journal.done(temp);
      }
      ENTRIES.clear();
      return n;
    }
  }
}
