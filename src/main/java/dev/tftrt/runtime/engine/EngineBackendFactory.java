package dev.tftrt.runtime.engine;

/**
 * Creates the backend of an engine node that has none registered under its key (see {@link
 * EngineRegistry#addFactory}). Called at most once per kernel instance, that is once per engine
 * node per TensorFlow session, on the node's first call; the backend it returns belongs to that
 * kernel and is closed when TensorFlow drops the kernel (when the session closes).
 */
@FunctionalInterface
public interface EngineBackendFactory {
  /** A backend for {@code node}, or null when this factory does not handle it. */
  EngineBackend create(EngineNode node) throws Exception;
}
