package dev.tftrt.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.bench.ConcurrencyBenchmark;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 7's "concurrency held", kept at a size for CI: 16 threads on one loaded model give
 * bit-identical outputs, and load/close cycles do not grow native memory. The full-size run
 * is {@link ConcurrencyBenchmark}.
 */
class ConcurrencyHeldTest {
  @TempDir static Path tmp;
  static Path converted;

  @BeforeAll
  static void convert() {
    converted = ConcurrencyBenchmark.convertedDemo(tmp);
  }

  @Test
  void sixteenThreadsTimesFiveHundredCallsAreBitIdentical() throws Exception {
    try (TftrtModel m = TftrtModel.load(converted)) {
      assertEquals(0, ConcurrencyBenchmark.callsDiffering(m, 16, 500));
    }
  }

  @Test
  void twoHundredLoadCloseCyclesDoNotGrowNativeMemory() throws Exception {
    long[] rss = ConcurrencyBenchmark.loadCloseRss(converted, 50, 200);
    long growth = rss[1] - rss[0];
    // 150 cycles after warm-up: a leak of 200 KiB per load (one graph, its sessions) would show as 30 MiB.
    assertTrue(growth < 24 * 1024, "resident memory grew by " + growth + " KiB over 150 load/close cycles");
  }
}
