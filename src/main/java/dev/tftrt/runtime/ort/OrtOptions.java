package dev.tftrt.runtime.ort;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import dev.tftrt.TftrtException;
import java.util.Objects;

/**
 * How the onnxruntime backend runs its sessions.
 *
 * <p>{@code sharedPool} (the default): every engine session of the process runs on ONNX
 * Runtime's one global intra-op pool, created with the process's ONNX Runtime environment, so a
 * model with k engines, called from several threads, does not start k pools on top of
 * TensorFlow's. The environment is a process singleton: the thread counts of whoever creates it
 * first (the first model loaded, or anything else using ONNX Runtime) hold for the life of the
 * process, and a later load asking for other counts gets a logged warning (see {@link
 * OrtEnvironments}). With {@code sharedPool} false each session gets its own pools of these sizes.
 *
 * <p>Thread counts: 0 means ONNX Runtime's default (one per physical core); 1 runs each call on
 * its caller's thread only. Spinning is always off: on a machine shared with TensorFlow's
 * threads, spinning workers take cores the other pool needs.
 *
 * <p>{@code nativeCalls} (the default): the engine kernel runs the session through ONNX
 * Runtime's C API itself, with no call into Java ({@link OrtNativeRunner}); false keeps every
 * call on the Java path (ONNX Runtime's Java API), to compare the two.
 */
public record OrtOptions(boolean sharedPool, int intraOpThreads, int interOpThreads, OptLevel optimization,
    boolean nativeCalls) {
  /** The global pool's intra-op size by default: see the ConcurrentEnginesBenchmark figures in the README. */
  public static final int DEFAULT_INTRA_OP_THREADS = 1;

  public OrtOptions {
    Objects.requireNonNull(optimization, "optimization");
    if (intraOpThreads < 0 || interOpThreads < 0) {
      throw new TftrtException("ONNX Runtime thread counts must be 0 (its default) or more, not "
          + (intraOpThreads < 0 ? intraOpThreads : interOpThreads) + ".");
    }
  }

  /** One shared pool, {@value #DEFAULT_INTRA_OP_THREADS} intra-op thread(s), every graph optimisation. */
  public OrtOptions(boolean sharedPool, int intraOpThreads, int interOpThreads, OptLevel optimization) {
    this(sharedPool, intraOpThreads, interOpThreads, optimization, true);
  }

  public static OrtOptions defaults() {
    return new OrtOptions(true, DEFAULT_INTRA_OP_THREADS, 1, OptLevel.ALL_OPT, true);
  }

  public OrtOptions withNativeCalls(boolean yes) {
    return new OrtOptions(sharedPool, intraOpThreads, interOpThreads, optimization, yes);
  }

  public OrtOptions withSharedPool(boolean yes) {
    return new OrtOptions(yes, intraOpThreads, interOpThreads, optimization, nativeCalls);
  }

  public OrtOptions withIntraOpThreads(int n) {
    return new OrtOptions(sharedPool, n, interOpThreads, optimization, nativeCalls);
  }

  public OrtOptions withInterOpThreads(int n) {
    return new OrtOptions(sharedPool, intraOpThreads, n, optimization, nativeCalls);
  }

  public OrtOptions withOptimization(OptLevel level) {
    return new OrtOptions(sharedPool, intraOpThreads, interOpThreads, level, nativeCalls);
  }
}
