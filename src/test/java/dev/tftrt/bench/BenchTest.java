package dev.tftrt.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.runtime.ModelRunner;
import dev.tftrt.runtime.engine.EngineTimings;
import dev.tftrt.tensor.HostTensor;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/** The bench's loop, figures, table, JSON tree and chart, on fake models (no TensorFlow). */
class BenchTest {
  private static final GpuStatus NO_GPU = new GpuStatus() {
    public boolean available() {
      return false;
    }

    public String description() {
      return null;
    }

    public String reason() {
      return "a test says so";
    }
  };

  /** y = x + offset, counting calls; optionally sleeping and reporting an engine's stage times. */
  static final class Fake implements ModelRunner {
    final long[] shape;
    final float offset;
    final long sleepMs;
    final boolean timed;
    final AtomicInteger calls = new AtomicInteger();
    java.util.Queue<String> log;
    volatile HostTensor lastFeed;

    Fake(long[] shape, float offset, long sleepMs, boolean timed) {
      this.shape = shape;
      this.offset = offset;
      this.sleepMs = sleepMs;
      this.timed = timed;
    }

    public String describe() {
      return "fake" + offset;
    }

    public List<TensorSpec> inputs() {
      return List.of(new TensorSpec("x", "x:0", DataType.DT_FLOAT, shape));
    }

    public List<TensorSpec> outputs() {
      return List.of(new TensorSpec("y", "y:0", DataType.DT_FLOAT, shape));
    }

    public Map<String, HostTensor> run(Map<String, HostTensor> feeds) {
      calls.incrementAndGet();
      if (log != null) log.add(describe());
      HostTensor x = feeds.get("x");
      lastFeed = x;
      if (sleepMs > 0) {
        try {
          Thread.sleep(sleepMs);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (timed && EngineTimings.active()) EngineTimings.report(1_000_000, 2_000_000, 500_000);
      ByteBuffer b = ByteBuffer.allocate((int) x.numElements() * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (long i = 0; i < x.numElements(); i++) b.putFloat((float) x.getDouble(i) + offset);
      b.flip();
      return Map.of("y", HostTensor.of(DataType.DT_FLOAT, x.shape(), b));
    }

    public void close() {}
  }

  @Test
  void measuredCallsAreSharedOutBetweenThreadsAndWarmUpIsNotMeasured() {
    Fake f = new Fake(new long[] {-1, 4}, 0, 0, false);
    BenchResult r = Bench.run(f, null, Map.of(),
        BenchOptions.defaults().withIterations(40).withThreads(4).withWarmup(3), NO_GPU);
    BenchResult.BatchRun b = r.models().get(0).batches().get(0);
    assertEquals(40, b.calls());
    assertEquals(40, b.latenciesMs().length);
    assertEquals(1 + 3 + 40, f.calls.get(), "one call for the outputs, three to warm up, forty measured");
    assertEquals(b.calls() / b.seconds(), b.callsPerSecond(), 1e-9 * b.callsPerSecond());
    assertNull(b.split(), "no backend reported stage times");
  }

  @Test
  void eachBatchSizeSetsDimensionZeroAndCountsSamples() {
    Fake f = new Fake(new long[] {-1, 4}, 0, 0, false);
    BenchResult r = Bench.run(f, null, Map.of(), BenchOptions.defaults().withIterations(5).withBatches(List.of(1, 8)), NO_GPU);
    List<BenchResult.BatchRun> bs = r.models().get(0).batches();
    assertEquals(List.of(1, 8), bs.stream().map(BenchResult.BatchRun::batch).toList());
    assertEquals("[8, 4]", bs.get(1).inputShapes().get("x"));
    assertArrayEquals(new long[] {8, 4}, f.lastFeed.shape());
    assertEquals(8 * bs.get(1).callsPerSecond(), bs.get(1).samplesPerSecond(), 1e-6 * bs.get(1).samplesPerSecond());
  }

  @Test
  void aFixedBatchIsRefusedBeforeAnythingRuns() {
    Fake f = new Fake(new long[] {2, 4}, 0, 0, false);
    TftrtException e = assertThrows(TftrtException.class, () -> Bench.run(f, null, Map.of(),
        BenchOptions.defaults().withBatches(List.of(2, 8)), NO_GPU));
    assertEquals("input 'x' of fake0.0 has a fixed batch of 2 (shape [2, 4]), so it cannot be benchmarked at --batch 8.",
        e.getMessage());
    assertEquals(0, f.calls.get());
  }

  @Test
  void aGivenInputIsRepeatedToFillTheBatch() {
    Fake f = new Fake(new long[] {-1, 2}, 0, 0, false);
    HostTensor one = HostTensor.ofFloats(new long[] {2, 2}, 1, 2, 3, 4);
    Bench.run(f, null, Map.of("x", one), BenchOptions.defaults().withIterations(1).withWarmup(0).withBatches(List.of(5)), NO_GPU);
    HostTensor fed = f.lastFeed;
    assertArrayEquals(new long[] {5, 2}, fed.shape());
    double[] v = new double[10];
    for (int i = 0; i < 10; i++) v[i] = fed.getDouble(i);
    assertArrayEquals(new double[] {1, 2, 3, 4, 1, 2, 3, 4, 1, 2}, v);
  }

  @Test
  void stringInputsAreRepeatedRowByRow() {
    HostTensor s = HostTensor.ofStrings(new long[] {2, 1}, new byte[][] {"a".getBytes(), "b".getBytes()});
    HostTensor r = BatchFeeds.repeat(s, 3, "s");
    assertArrayEquals(new long[] {3, 1}, r.shape());
    assertEquals("a", new String(r.string(2)));
    assertEquals("b", new String(r.string(1)));
  }

  @Test
  void stageTimesReportedByABackendBecomeTheSplitPerCall() {
    Fake f = new Fake(new long[] {-1, 4}, 0, 0, true);
    BenchResult r = Bench.run(f, null, Map.of(), BenchOptions.defaults().withIterations(10).withWarmup(2), NO_GPU);
    StageSplit s = r.models().get(0).batches().get(0).split();
    assertNotNull(s);
    assertEquals(1.0, s.hostToDeviceMs(), 1e-9);
    assertEquals(2.0, s.computeMs(), 1e-9);
    assertEquals(0.5, s.deviceToHostMs(), 1e-9);
    assertEquals(10, s.engineRuns(), "warm-up runs are not counted");
    assertFalse(EngineTimings.active(), "the listener is removed after measuring");
    String table = table(r);
    assertTrue(table.contains("H2D") && table.contains("GPU") && table.contains("D2H"), table);
    assertTrue(table.contains("2.000"), table);
  }

  @Test
  void withoutStageTimesTheTableHasNoSplitColumns() {
    BenchResult r = Bench.run(new Fake(new long[] {-1, 4}, 0, 0, false), null, Map.of(),
        BenchOptions.defaults().withIterations(3), NO_GPU);
    String table = table(r);
    assertFalse(table.contains("H2D"), table);
    assertTrue(table.startsWith("tftrt bench: CPU only: no GPU (a test says so)"), table);
  }

  @Test
  void aGpuWithOnlyCpuBackendsIsSaidToGiveCpuFigures() {
    GpuStatus gpu = new GpuStatus() {
      public boolean available() {
        return true;
      }

      public String description() {
        return "NVIDIA H200, 143771 MiB, driver 580.65.06";
      }

      public String reason() {
        return null;
      }
    };
    String table = table(Bench.run(new Fake(new long[] {-1, 4}, 0, 0, false), null, Map.of(),
        BenchOptions.defaults().withIterations(1), gpu));
    assertTrue(table.startsWith("tftrt bench: GPU: NVIDIA H200, 143771 MiB, driver 580.65.06\n"), table);
    assertTrue(table.contains("note: nothing here runs on TensorRT, so these are CPU figures despite the GPU"), table);
  }

  @Test
  void aBaselineGivesSpeedUpAndAgreement() {
    Fake model = new Fake(new long[] {-1, 4}, 0.5f, 0, false);
    Fake base = new Fake(new long[] {-1, 4}, 0, 20, false);
    BenchResult r = Bench.run(model, base, Map.of(), BenchOptions.defaults().withIterations(5).withWarmup(0), NO_GPU);
    assertEquals(2, r.models().size());
    assertEquals("baseline", r.models().get(1).role());
    double expected = r.models().get(0).batches().get(0).samplesPerSecond() / r.models().get(1).batches().get(0).samplesPerSecond();
    assertEquals(expected, r.speedup(null), 1e-12);
    assertTrue(r.speedup(null) > 1, "the baseline sleeps 20 ms per call: " + r.speedup(null));
    BenchResult.Agreement a = r.agreement(null);
    assertFalse(a.withinTolerance());
    assertEquals(0.5, a.maxAbs(), 1e-6);
    String table = table(r);
    assertTrue(table.contains("OUT OF TOLERANCE"), table);
    assertTrue(table.contains("speed-up"), table);
  }

  @Test
  void aModelAndItsBaselineTakeTurnsInRoundsAndEachGetsItsCalls() {
    Fake model = new Fake(new long[] {-1, 4}, 1, 0, false);
    Fake base = new Fake(new long[] {-1, 4}, 0, 0, false);
    java.util.Queue<String> log = new java.util.concurrent.ConcurrentLinkedQueue<>();
    model.log = log;
    base.log = log;
    BenchResult r = Bench.run(model, base, Map.of(), BenchOptions.defaults().withIterations(7).withWarmup(0), NO_GPU);
    assertEquals(7, r.models().get(0).batches().get(0).calls());
    assertEquals(7, r.models().get(1).batches().get(0).calls());
    List<String> order = List.copyOf(log).subList(2, 16); // after one call each for the outputs
    int turns = 0;
    for (int i = 1; i < order.size(); i++) if (!order.get(i).equals(order.get(i - 1))) turns++;
    // Five rounds of 2 or 1 calls each: model, baseline, model, ... nine changes of turn.
    assertEquals(9, turns, "model and baseline alternate in rounds: " + order);
  }

  @Test
  void aDurationMeasuresForAboutThatLong() {
    Fake f = new Fake(new long[] {-1, 4}, 0, 10, false);
    BenchResult.BatchRun b = Bench.run(f, null, Map.of(), BenchOptions.defaults().withSeconds(0.3).withWarmup(0), NO_GPU)
        .models().get(0).batches().get(0);
    assertTrue(b.seconds() >= 0.3, "measured " + b.seconds() + " s");
    assertTrue(b.calls() >= 5 && b.calls() <= 31, b.calls() + " calls of 10 ms in 0.3 s");
  }

  @Test
  void optionsAreCheckedInOneSentence() {
    BenchOptions d = BenchOptions.defaults();
    assertEquals("--batch 0 is not a batch size: give whole numbers of 1 or more.",
        assertThrows(TftrtException.class, () -> d.withBatches(List.of(1, 0))).getMessage());
    assertEquals("--threads 0 must be from 1 to 256.", assertThrows(TftrtException.class, () -> d.withThreads(0)).getMessage());
    assertEquals("--iterations 0 must be 1 or more.", assertThrows(TftrtException.class, () -> d.withIterations(0)).getMessage());
    assertThrows(TftrtException.class, () -> d.withBatches(List.of(8, 8)));
  }

  @Test
  void theJsonTreeHoldsEveryFigureAndThePlotIsTwoCharts() {
    BenchResult r = Bench.run(new Fake(new long[] {-1, 4}, 0.25f, 0, true), new Fake(new long[] {-1, 4}, 0, 0, false),
        Map.of(), BenchOptions.defaults().withIterations(4).withBatches(List.of(1, 2)), NO_GPU);
    JsonNode j = BenchJson.tree(r);
    assertEquals("tftrt-bench", j.get("format").asText());
    assertEquals("a test says so", j.get("machine").get("noGpuReason").asText());
    assertEquals(2, j.get("models").size());
    JsonNode b2 = j.get("models").get(0).get("batches").get(1);
    assertEquals(2, b2.get("batch").asInt());
    assertEquals(4, b2.get("latenciesMs").size());
    assertEquals(2.0, b2.get("stageMsPerCall").get("compute").asDouble(), 1e-9);
    assertTrue(j.get("models").get(1).get("batches").get(0).get("stageMsPerCall") == null);
    assertEquals(0.25, j.get("comparison").get(0).get("outputs").get(0).get("maxAbsDiff").asDouble(), 1e-6);
    assertEquals(r.speedup(2), j.get("comparison").get(1).get("speedup").asDouble(), 1e-12);
    BufferedImage png = BenchPlot.render(r);
    assertEquals(BenchPlot.WIDTH, png.getWidth());
    assertEquals(BenchPlot.HEIGHT, png.getHeight());
  }

  private static String table(BenchResult r) {
    StringWriter s = new StringWriter();
    BenchTable.print(new PrintWriter(s, true), r);
    return s.toString();
  }
}
