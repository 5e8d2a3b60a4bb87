package dev.tftrt.runtime.engine;

/**
 * What an engine node runs: given the node's input tensors, fills its outputs (see {@link
 * EngineCall}). One backend serves one engine node (or several nodes with the same
 * computation) and is created once, never per call.
 *
 * <p>{@link #run} is called from TensorFlow's threads, concurrently when several {@code
 * Session.run} calls (or independent engine nodes of one graph) execute at once, so it must be
 * thread-safe. Whatever it throws becomes a TensorFlow error naming the node; nothing it does
 * can take the JVM down through the native op.
 */
@FunctionalInterface
public interface EngineBackend extends AutoCloseable {
  /** Computes the node's outputs from its inputs. */
  void run(EngineCall call) throws Exception;

  /** A short description for messages ("onnxruntime", "tensorflow segment", ...). */
  default String describe() {
    String s = getClass().getSimpleName();
    return s.isEmpty() ? "java backend" : s;
  }

  /**
   * A native runner the engine kernel calls in place of {@link #run}, with no Java on the way
   * (the onnxruntime backend's {@code OrtNativeRunner}), or 0 for none. Asked once per kernel;
   * a runner must give the same results as {@code run}, which still serves the calls it
   * declines.
   */
  default long nativeRunner() {
    return 0;
  }

  /** Frees what the backend holds; called by whoever owns it (see {@link EngineRegistry}). */
  @Override
  default void close() {}
}
