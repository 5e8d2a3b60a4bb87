package dev.tftrt.bench;

import dev.tftrt.runtime.engine.EngineTimings;
import java.util.concurrent.atomic.LongAdder;

/**
 * The host-to-device / GPU compute / device-to-host split of a model call, in milliseconds per
 * call (summed over the model's engines), as reported by backends through {@link EngineTimings}.
 * Only the TensorRT backend reports it; for other backends there is none.
 */
public record StageSplit(double hostToDeviceMs, double computeMs, double deviceToHostMs, long engineRuns) {

  /** Collects what backends report while one measurement runs. */
  static final class Collector implements EngineTimings.Listener {
    private final LongAdder h2d = new LongAdder();
    private final LongAdder compute = new LongAdder();
    private final LongAdder d2h = new LongAdder();
    private final LongAdder runs = new LongAdder();

    @Override
    public void executed(long hostToDeviceNanos, long computeNanos, long deviceToHostNanos) {
      h2d.add(hostToDeviceNanos);
      compute.add(computeNanos);
      d2h.add(deviceToHostNanos);
      runs.increment();
    }

    void reset() {
      h2d.reset();
      compute.reset();
      d2h.reset();
      runs.reset();
    }

    /** The split per call over {@code calls} model calls; null when no backend reported any. */
    StageSplit perCall(long calls) {
      long n = runs.sum();
      if (n == 0 || calls == 0) return null;
      return new StageSplit(h2d.sum() / 1e6 / calls, compute.sum() / 1e6 / calls, d2h.sum() / 1e6 / calls, n);
    }
  }
}
