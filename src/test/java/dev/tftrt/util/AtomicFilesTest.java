package dev.tftrt.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.testing.TestModels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Temporary names: short enough for any legal target name, and recognised after a killed run. */
class AtomicFilesTest {
  @TempDir Path tmp;

  /** The pid of a process that has ended. */
  private static long deadPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    return p.pid();
  }

  @Test
  void a248CharacterNameIsWrittenAsFileAndAsFolder() throws IOException {
    String name = "m".repeat(244) + ".pb";
    assertEquals(247, name.length());
    Path file = tmp.resolve(name + "x");
    AtomicFiles.write(file, "graph".getBytes(StandardCharsets.UTF_8));
    assertEquals("graph", Files.readString(file));
    Path folder = tmp.resolve("d".repeat(248));
    AtomicFiles.writeFolder(folder, dir -> Files.writeString(dir.resolve("tftrt.json"), "{}"));
    assertEquals("{}", Files.readString(folder.resolve("tftrt.json")));
    assertEquals(List.of("d".repeat(248), name + "x"), TestModels.listing(tmp));
    // Multi-byte names are cut at whole characters and still fit.
    Path wide = tmp.resolve("é".repeat(127));
    assertTrue(wide.getFileName().toString().getBytes(StandardCharsets.UTF_8).length == 254);
    AtomicFiles.write(wide, new byte[] {1});
    assertTrue(Files.isRegularFile(wide));
  }

  @Test
  void temporaryNamesHoldThePidAndFitInNameMax() {
    String prefix = AtomicFiles.tempPrefix(tmp.resolve("x".repeat(255)));
    String full = prefix + ProcessHandle.current().pid() + "-0123abcd.tmp";
    assertTrue(full.getBytes(StandardCharsets.UTF_8).length <= AtomicFiles.NAME_MAX, full);
    assertEquals(".out.tftrt-", AtomicFiles.tempPrefix(tmp.resolve("out")));
  }

  /**
   * Writes a journal as a run killed outright would have left it (nobody holds its lock): the
   * given entries added, none marked done. Each entry: path, the identity it had, restore target.
   */
  private static Path deadJournal(Object[]... entries) throws IOException {
    Path dir = Journal.folder();
    assertTrue(dir != null, "the tests' state folder (TFTRT_STATE_DIR) is not usable");
    StringBuilder b = new StringBuilder();
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    for (Object[] e : entries) {
      var n = json.createObjectNode().put("add", e[0].toString());
      if (e[1] != null) n.put("id", (String) e[1]);
      else n.put("at", (Long) e[3]); // killed between recording the name and creating it
      if (e[2] != null) n.put("restore", e[2].toString());
      b.append(json.writeValueAsString(n)).append('\n');
    }
    b.append("{\"add\": \"/cut-short-by-the-cr"); // a last line cut short by the crash
    return Files.writeString(dir.resolve("1-" + System.nanoTime() + ".journal"), b.toString());
  }

  @Test
  void filesThatOnlyLookLikeOurTemporariesAreNeverTouched() throws Exception {
    long dead = deadPid();
    // A user's files named exactly as a dead run's temporaries and set-aside target would be.
    Path folder = Files.createDirectories(tmp.resolve(".conv.tftrt-" + dead + "-deadbeef.tmp"));
    Files.writeString(folder.resolve("thesis.tex"), "years of work");
    Path aside = Files.createDirectories(tmp.resolve(".conv.tftrt-" + dead + "-0000beef.old"));
    Files.writeString(aside.resolve("tftrt.json"), "mine");
    Files.writeString(tmp.resolve(".model.pb.tftrt-" + dead + "-0000cafe.tmp"), "mine too");

    AtomicFiles.writeFolder(tmp.resolve("conv"), dir -> Files.writeString(dir.resolve("tftrt.json"), "{}"));
    AtomicFiles.write(tmp.resolve("model.pb"), new byte[] {1});
    assertEquals(List.of(".conv.tftrt-" + dead + "-0000beef.old", ".conv.tftrt-" + dead + "-deadbeef.tmp",
        ".model.pb.tftrt-" + dead + "-0000cafe.tmp", "conv", "model.pb"), TestModels.listing(tmp));
    assertEquals("years of work", Files.readString(folder.resolve("thesis.tex")));
    assertEquals("{}", Files.readString(tmp.resolve("conv/tftrt.json"))); // not the user's "old" one
  }

  @Test
  void whatADeadRunJournalledIsRemovedOrPutBackAndNothingElse() throws Exception {
    Path half = Files.createDirectories(tmp.resolve(".conv.tftrt-1-00000001.tmp/segments"));
    Files.write(half.resolve("TftrtEngine_0.onnx"), new byte[1 << 20]);
    Path halfTop = half.getParent();
    // Set aside by the dead run, whose replacement never arrived: goes back to its place.
    Path aside = Files.createDirectories(tmp.resolve(".prev.tftrt-1-00000002.old"));
    Files.writeString(aside.resolve("tftrt.json"), "previous");
    // Journalled, but the path now holds another file (the user's): left alone.
    Path replaced = Files.writeString(tmp.resolve(".x.pb.tftrt-1-00000003.tmp"), "ours");
    String oldId = Journal.identity(replaced);
    Files.delete(replaced);
    Files.writeString(tmp.resolve("keep-inode-busy"), "x"); // so the new file cannot reuse the inode
    Files.writeString(replaced, "the user's now");
    // Recorded just before creation, then killed: trusted only if modified since the record.
    Path fresh = Files.writeString(tmp.resolve(".y.pb.tftrt-1-00000004.tmp"), "half");
    Path older = Files.writeString(tmp.resolve(".z.pb.tftrt-1-00000005.tmp"), "a user's, from before");
    Files.setLastModifiedTime(older, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
    long recorded = System.currentTimeMillis() - 1_000;
    Path journal = deadJournal(new Object[] {halfTop, Journal.identity(halfTop), null},
        new Object[] {aside, Journal.identity(aside), tmp.resolve("prev")},
        new Object[] {replaced, oldId, null},
        new Object[] {fresh, null, null, recorded}, new Object[] {older, null, null, recorded});

    AtomicFiles.write(tmp.resolve("other.pb"), new byte[] {1}); // any write recovers killed runs first
    assertEquals(List.of(".x.pb.tftrt-1-00000003.tmp", ".z.pb.tftrt-1-00000005.tmp", "keep-inode-busy", "other.pb",
        "prev"), TestModels.listing(tmp));
    assertEquals("previous", Files.readString(tmp.resolve("prev/tftrt.json")));
    assertEquals("the user's now", Files.readString(replaced));
    assertTrue(Files.notExists(journal), "a replayed journal is removed");
  }

  @Test
  void thisRunsOwnJournalIsEmptyOnceItsWritesAreDone() throws IOException {
    AtomicFiles.writeFolder(tmp.resolve("conv"), dir -> Files.writeString(dir.resolve("tftrt.json"), "{}"));
    String mine = ProcessHandle.current().pid() + "-";
    try (var list = Files.list(Journal.folder())) {
      assertEquals(List.of(), list.filter(p -> p.getFileName().toString().startsWith(mine)).toList());
    }
  }

  @Test
  void aLiveProcesssJournalIsLeftAlone() throws Exception {
    Path temp = Files.writeString(tmp.resolve(".x.tftrt-2-00000001.tmp"), "another run's, still writing");
    Path journal = deadJournal(new Object[] {temp, Journal.identity(temp), null});
    // Another process holds the journal's lock, as a live run holds its own.
    Process holder = dev.tftrt.testing.ChildJvm.start(tmp, java.util.Map.of(), List.of(), LockHolder.class.getName(), journal.toString());
    try {
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (!Files.exists(tmp.resolve("locked")) && holder.isAlive() && System.nanoTime() < deadline) Thread.sleep(10);
      assertTrue(Files.exists(tmp.resolve("locked")), "the lock holder did not start");
      AtomicFiles.write(tmp.resolve("y.pb"), new byte[] {1});
      assertTrue(Files.exists(temp) && Files.exists(journal));
    } finally {
      holder.destroyForcibly();
      holder.waitFor();
    }
    AtomicFiles.write(tmp.resolve("y.pb"), new byte[] {2}); // its process is gone now
    assertTrue(Files.notExists(temp) && Files.notExists(journal));
  }

  /** Holds an exclusive lock on the file args[0] until killed; says so by creating ./locked. */
  public static final class LockHolder {
    public static void main(String[] args) throws Exception {
      try (var ch = java.nio.channels.FileChannel.open(Path.of(args[0]), java.nio.file.StandardOpenOption.WRITE)) {
        ch.lock();
        Files.createFile(Path.of("locked"));
        Thread.sleep(600_000);
      }
    }
  }

  @Test
  void abandoningPutsEverythingBack() throws IOException {
    Path out = tmp.resolve("conv");
    Path scratch = Files.createDirectories(tmp.resolve("scratch"));
    InFlight.removeOnInterrupt(scratch);
    try {
      AtomicFiles.writeFolder(out, dir -> {
        Files.writeString(dir.resolve("tftrt.json"), "{}");
        InFlight.abandon(); // what the interrupted process's hook does, mid-write
      });
    } catch (RuntimeException expected) {
      // the write is refused after abandoning
    } finally {
      InFlight.reset();
    }
    assertEquals(List.of(), TestModels.listing(tmp));
  }
}
