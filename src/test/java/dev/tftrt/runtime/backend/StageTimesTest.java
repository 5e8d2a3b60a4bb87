package dev.tftrt.runtime.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.runtime.engine.EngineTimings;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The tensorrt backend's stage timing with a fake clock standing in for CUDA events: which
 * points a call marks, what it reports through the bench's hook, and that without a listener
 * no event is ever created.
 */
class StageTimesTest {
  /** Points marked at given times (ms), as a CUDA event would record them on the stream. */
  static final class FakeClock implements StageTimes.Clock {
    final double[] at;
    final List<Integer> marked = new ArrayList<>();
    boolean closed;

    FakeClock(double... at) {
      this.at = at;
    }

    public void mark(int point) {
      marked.add(point);
    }

    public double elapsedMs(int from, int to) {
      assertTrue(marked.contains(from) && marked.contains(to), "elapsed time read for unmarked points " + from + ", " + to);
      return at[to] - at[from];
    }

    public void close() {
      closed = true;
    }
  }

  final List<long[]> reported = new ArrayList<>();

  @AfterEach
  void uninstall() {
    EngineTimings.install(null);
  }

  /** One call as the backend makes it: begin, the two compute points, the last copy, report. */
  static void call(StageTimes t) {
    boolean timed = t.begin();
    t.mark(timed, StageTimes.BEFORE_COMPUTE);
    t.mark(timed, StageTimes.AFTER_COMPUTE);
    t.mark(timed, StageTimes.AFTER_D2H);
    t.report(timed);
  }

  @Test
  void withoutAListenerNoEventIsCreatedAndNothingReported() {
    int[] made = {0};
    StageTimes t = new StageTimes(() -> {
      made[0]++;
      return new FakeClock(0, 1, 2, 3);
    });
    for (int i = 0; i < 3; i++) call(t);
    assertEquals(0, made[0], "events are created only when timings are asked for");
    assertFalse(t.hasClock());
    t.close(); // nothing to free
  }

  @Test
  void aTimedCallReportsTheThreeStagesInNanosecondsThroughTheBenchHook() {
    EngineTimings.install((h2d, compute, d2h) -> reported.add(new long[] {h2d, compute, d2h}));
    FakeClock clock = new FakeClock(0, 0.25, 2.25, 2.75);
    int[] made = {0};
    StageTimes t = new StageTimes(() -> {
      made[0]++;
      return clock;
    });
    call(t);
    call(t);
    assertEquals(1, made[0], "one set of events per slot, reused by every later call");
    assertEquals(List.of(0, 1, 2, 3, 0, 1, 2, 3), clock.marked);
    assertEquals(2, reported.size());
    assertEquals(250_000, reported.get(0)[0]);
    assertEquals(2_000_000, reported.get(0)[1]);
    assertEquals(500_000, reported.get(0)[2]);
    t.close();
    assertTrue(clock.closed, "closing the slot destroys its events");
  }

  @Test
  void aCallBegunBeforeTheListenerCameIsNotTimedHalfWay() {
    FakeClock clock = new FakeClock(0, 1, 2, 3);
    StageTimes t = new StageTimes(() -> clock);
    boolean timed = t.begin(); // no listener yet
    EngineTimings.install((h2d, compute, d2h) -> reported.add(new long[] {h2d, compute, d2h}));
    t.mark(timed, StageTimes.BEFORE_COMPUTE);
    t.mark(timed, StageTimes.AFTER_COMPUTE);
    t.mark(timed, StageTimes.AFTER_D2H);
    t.report(timed);
    assertTrue(clock.marked.isEmpty());
    assertTrue(reported.isEmpty());
  }

  @Test
  void reportsFromSeveralEnginesAddUpPerCall() {
    long[] sum = new long[3];
    EngineTimings.install((h2d, compute, d2h) -> {
      sum[0] += h2d;
      sum[1] += compute;
      sum[2] += d2h;
    });
    call(new StageTimes(() -> new FakeClock(0, 1, 3, 4)));
    call(new StageTimes(() -> new FakeClock(10, 10.5, 11, 11.5)));
    assertEquals(1_500_000, sum[0]);
    assertEquals(2_500_000, sum[1]);
    assertEquals(1_500_000, sum[2]);
  }

  @Test
  void aValueThatIsNoTimeCountsAsNone() {
    assertEquals(0, StageTimes.nanos(-0.5));
    assertEquals(0, StageTimes.nanos(Double.NaN));
    assertEquals(0, StageTimes.nanos(Double.POSITIVE_INFINITY));
    assertEquals(1_234_568, StageTimes.nanos(1.2345678));
  }
}
