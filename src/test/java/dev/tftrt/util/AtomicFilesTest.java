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

  @Test
  void leftoversOfADeadRunAreRemovedByTheNextWrite() throws Exception {
    long dead = deadPid();
    Path staleFolder = Files.createDirectories(tmp.resolve(".conv.tftrt-" + dead + "-0000beef.tmp/segments"));
    Files.write(staleFolder.resolve("TftrtEngine_0.onnx"), new byte[1 << 20]);
    Files.writeString(tmp.resolve(".model.pb.tftrt-" + dead + "-0000cafe.tmp"), "half");
    // A live process's temporary (another run writing now) and files that only look similar stay.
    String live = ".conv.tftrt-" + ProcessHandle.current().parent().orElseThrow().pid() + "-00001234.tmp";
    Files.createDirectories(tmp.resolve(live));
    Files.writeString(tmp.resolve(".conv.tftrt-notes.txt"), "mine");

    AtomicFiles.writeFolder(tmp.resolve("conv"), dir -> Files.writeString(dir.resolve("tftrt.json"), "{}"));
    AtomicFiles.write(tmp.resolve("model.pb"), new byte[] {1});
    assertEquals(List.of(live, ".conv.tftrt-notes.txt", "conv", "model.pb").stream().sorted().toList(), TestModels.listing(tmp));
  }

  @Test
  void aTargetSetAsideByADeadRunIsPutBack() throws Exception {
    long dead = deadPid();
    // Killed between moving the old output aside and moving the new one in.
    Path aside = Files.createDirectories(tmp.resolve(".conv.tftrt-" + dead + "-00000001.old"));
    Files.writeString(aside.resolve("tftrt.json"), "previous");
    AtomicFiles.removeStale(tmp.resolve("conv"));
    assertEquals(List.of("conv"), TestModels.listing(tmp));
    assertEquals("previous", Files.readString(tmp.resolve("conv/tftrt.json")));
    // Killed after the new one was in place: the old one is only removed.
    Files.createDirectories(tmp.resolve(".conv.tftrt-" + dead + "-00000002.old"));
    AtomicFiles.removeStale(tmp.resolve("conv"));
    assertEquals(List.of("conv"), TestModels.listing(tmp));
    assertEquals("previous", Files.readString(tmp.resolve("conv/tftrt.json")));
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
