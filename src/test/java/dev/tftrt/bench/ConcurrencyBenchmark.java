package dev.tftrt.bench;

import dev.tftrt.demo.DemoModel;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.runtime.TftrtModel;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * What issue 7 measured and asks to keep: one loaded converted model called from many threads
 * gives bit-identical outputs, and loading and closing it many times does not grow native
 * memory. Full size by default (16 threads x 26,000 calls, 1,000 load/close cycles); the test
 * {@code ConcurrencyHeldTest} runs the same code at a size for CI.
 *
 * <pre>
 * java -cp "target/test-classes:target/classes:target/lib/*" dev.tftrt.bench.ConcurrencyBenchmark [threads=16] [calls=26000] [cycles=1000]
 * </pre>
 */
public final class ConcurrencyBenchmark {
  private ConcurrencyBenchmark() {}

  /** The demo model, converted into a new folder under dir. */
  public static Path convertedDemo(Path dir) {
    Path saved = dir.resolve("saved");
    DemoModel.save(saved, 7);
    Path converted = dir.resolve("converted");
    ConvertJob.run(ConvertJob.Options.of(LoadOptions.of(saved), converted));
    return converted;
  }

  /**
   * threads threads each make calls calls (inputs of batch 1 to 3, in turn) on one loaded model;
   * returns how many outputs differ in any bit from the single-threaded output for that input.
   */
  public static long callsDiffering(TftrtModel m, int threads, int calls) throws Exception {
    List<Map<String, HostTensor>> inputs = new ArrayList<>();
    List<HostTensor> expected = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      inputs.add(Map.of("image", TestModels.randomFloats(200 + i, 1 + i % 3, 16, 16, 3)));
      expected.add(m.run(inputs.get(i)).get("probabilities"));
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Long>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        futures.add(pool.submit(() -> {
          long bad = 0;
          for (int i = 0; i < calls; i++) {
            int k = (thread + i) % inputs.size();
            if (!m.run(inputs.get(k)).get("probabilities").contentEquals(expected.get(k))) bad++;
          }
          return bad;
        }));
      }
      long bad = 0;
      for (Future<Long> f : futures) bad += f.get();
      return bad;
    } finally {
      pool.shutdown();
    }
  }

  /**
   * Loads, calls once and closes the model cycles times; returns the resident set size (KiB)
   * after warm-up cycles and after all of them.
   */
  public static long[] loadCloseRss(Path converted, int warmup, int cycles) throws Exception {
    Map<String, HostTensor> in = Map.of("image", TestModels.randomFloats(1, 1, 16, 16, 3));
    long[] rss = new long[2];
    for (int i = 0; i < cycles; i++) {
      try (TftrtModel m = TftrtModel.load(converted)) {
        m.run(in);
      }
      if (i + 1 == warmup) rss[0] = residentKiB();
    }
    rss[1] = residentKiB();
    return rss;
  }

  /** Resident set size from /proc (Linux), in KiB, after a GC so Java garbage is not counted as growth. */
  public static long residentKiB() throws Exception {
    System.gc();
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
    }
    throw new IllegalStateException("no VmRSS in /proc/self/status");
  }

  public static void main(String[] args) throws Exception {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 16;
    int calls = args.length > 1 ? Integer.parseInt(args[1]) : 26_000;
    int cycles = args.length > 2 ? Integer.parseInt(args[2]) : 1_000;
    Path converted = convertedDemo(Files.createTempDirectory("tftrt-bench-"));
    try (TftrtModel m = TftrtModel.load(converted)) {
      long t0 = System.nanoTime();
      long bad = callsDiffering(m, threads, calls);
      double s = (System.nanoTime() - t0) / 1e9;
      System.out.printf("%d threads x %d calls: %d differing from the single-threaded outputs, %.1f s (%.0f calls/s)%n",
          threads, calls, bad, s, threads * (double) calls / s);
    }
    long t0 = System.nanoTime();
    long[] rss = loadCloseRss(converted, cycles / 10, cycles);
    System.out.printf("%d load/close cycles in %.1f s: resident %d MiB after %d, %d MiB after %d (%+d KiB)%n", cycles,
        (System.nanoTime() - t0) / 1e9, rss[0] / 1024, cycles / 10, rss[1] / 1024, cycles, rss[1] - rss[0]);
  }
}
