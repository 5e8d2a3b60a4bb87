package dev.tftrt.runtime.backend;

import java.util.ArrayList;
import java.util.List;

/**
 * Per-call GPU stage times of the {@code tensorrt} backend, measured with CUDA events on each
 * call's stream as trtexec reports them: host-to-device copy, GPU compute (enqueueV3) and
 * device-to-host copy, in milliseconds. Off unless started (a benchmark starts it): recording
 * events costs a little per call.
 */
public final class StageTimes {
  private static volatile StageTimes active;

  /** One call's times in milliseconds. */
  public record Call(double hostToDevice, double compute, double deviceToHost) {}

  private final List<Call> calls = new ArrayList<>();

  private StageTimes() {}

  /** Starts collecting (replacing any collection under way) and returns the collector. */
  public static StageTimes start() {
    StageTimes t = new StageTimes();
    active = t;
    return t;
  }

  /** Stops collecting; the collector keeps what it has. */
  public static void stop() {
    active = null;
  }

  static StageTimes active() {
    return active;
  }

  synchronized void add(double h2d, double compute, double d2h) {
    calls.add(new Call(h2d, compute, d2h));
  }

  public synchronized List<Call> calls() {
    return List.copyOf(calls);
  }
}
