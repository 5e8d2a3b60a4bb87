package dev.tftrt.runtime.engine;

/**
 * Where a backend that can time its own stages (the TensorRT backend, with CUDA events: host to
 * device copies, GPU compute, device to host copies) reports each execution, so that {@code
 * tftrt bench} can show the split as trtexec does. It lives here, below the backends and the
 * bench, so neither depends on the other. Backends that cannot time their stages report nothing,
 * and the bench then shows no split columns.
 *
 * <p>Timing costs something (events recorded and waited on), so a backend asks {@link #active()}
 * before each execution and times only while a listener is installed.
 */
public final class EngineTimings {
  /** Receives one engine execution's stage times, from whatever thread ran the engine. */
  @FunctionalInterface
  public interface Listener {
    void executed(long hostToDeviceNanos, long computeNanos, long deviceToHostNanos);
  }

  private static volatile Listener listener;

  private EngineTimings() {}

  /** Installs the one listener (the bench, for the length of a measurement); null removes it. */
  public static void install(Listener l) {
    listener = l;
  }

  /** Whether anyone listens: a backend times its stages only then. */
  public static boolean active() {
    return listener != null;
  }

  /** Called by a backend after an execution it timed. */
  public static void report(long hostToDeviceNanos, long computeNanos, long deviceToHostNanos) {
    Listener l = listener;
    if (l != null) l.executed(hostToDeviceNanos, computeNanos, deviceToHostNanos);
  }
}
