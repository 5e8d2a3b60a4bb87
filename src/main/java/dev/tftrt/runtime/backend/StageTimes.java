package dev.tftrt.runtime.backend;

import dev.tftrt.runtime.engine.EngineTimings;
import java.util.function.Supplier;

/**
 * The stage timing of one execution slot of the {@code tensorrt} backend: four points marked on
 * the slot's CUDA stream (before the host-to-device copies, before {@code enqueueV3}, after it,
 * after the device-to-host copies) and reported through {@link EngineTimings}, the hook {@code
 * tftrt bench} reads, as host-to-device, GPU compute and device-to-host times, as trtexec splits
 * them. Nothing is recorded unless someone listens when a call begins: events cost a little per
 * call. The events sit behind {@link Clock} (CUDA events on a GPU), so what is marked when and
 * what is reported is decided here and tested without CUDA. One slot serves one call at a time.
 */
final class StageTimes {
  static final int BEFORE_H2D = 0;
  static final int BEFORE_COMPUTE = 1;
  static final int AFTER_COMPUTE = 2;
  static final int AFTER_D2H = 3;
  static final int POINTS = 4;

  /** Points on a stream: CUDA events recorded on it, read once the stream has synchronised. */
  interface Clock {
    void mark(int point);

    /** Milliseconds from one marked point to another (cudaEventElapsedTime). */
    double elapsedMs(int from, int to);

    void close();
  }

  private final Supplier<Clock> make;
  private Clock clock; // made on the slot's first timed call, then reused

  StageTimes(Supplier<Clock> make) {
    this.make = make;
  }

  /** Starts a call: whether it is timed (a listener is installed); if so, marks the first point. */
  boolean begin() {
    if (!EngineTimings.active()) return false;
    if (clock == null) clock = make.get();
    clock.mark(BEFORE_H2D);
    return true;
  }

  void mark(boolean timed, int point) {
    if (timed) clock.mark(point);
  }

  /** After the stream has synchronised: reports a timed call's three stages. */
  void report(boolean timed) {
    if (!timed) return;
    EngineTimings.report(nanos(clock.elapsedMs(BEFORE_H2D, BEFORE_COMPUTE)),
        nanos(clock.elapsedMs(BEFORE_COMPUTE, AFTER_COMPUTE)), nanos(clock.elapsedMs(AFTER_COMPUTE, AFTER_D2H)));
  }

  /** Milliseconds as nanoseconds; nothing for a value that is no time (negative, NaN). */
  static long nanos(double ms) {
    return ms > 0 && Double.isFinite(ms) ? Math.round(ms * 1e6) : 0;
  }

  /** Whether a clock was ever made (events exist to free). */
  boolean hasClock() {
    return clock != null;
  }

  void close() {
    if (clock != null) clock.close();
    clock = null;
  }
}
