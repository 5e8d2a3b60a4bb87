package dev.tftrt.runtime.engine;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Where engine nodes find their backends. On each call a node looks up the backend registered
 * under its {@linkplain EngineNode#registryKey() key} (its {@code key} attribute, or its name
 * when that is empty); when there is none, the first installed {@link EngineBackendFactory}
 * that accepts the node creates one for that kernel, once.
 *
 * <p>Keys are global to the JVM: a runtime that loads several models gives each engine node a
 * key unique to the loaded model (the {@code key} attribute) before importing the graph, or
 * relies on factories. Registering does not transfer ownership: the caller closes its backend
 * after closing the registration and the sessions that use it.
 */
public final class EngineRegistry {
  private static final ConcurrentHashMap<String, EngineBackend> BACKENDS = new ConcurrentHashMap<>();
  private static final CopyOnWriteArrayList<EngineBackendFactory> FACTORIES =
      new CopyOnWriteArrayList<>();

  private EngineRegistry() {}

  /** Undoes a registration; closing twice is harmless. */
  public interface Registration extends AutoCloseable {
    @Override
    void close();
  }

  /**
   * Makes {@code backend} the one for engine nodes with this key, until the returned
   * registration is closed. Throws IllegalStateException when the key is taken.
   */
  public static Registration register(String key, EngineBackend backend) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(backend, "backend");
    EngineBackend previous = BACKENDS.putIfAbsent(key, backend);
    if (previous != null) {
      throw new IllegalStateException("an engine backend is already registered under key '" + key
          + "' (" + previous.describe() + "); close that registration first");
    }
    return () -> BACKENDS.remove(key, backend);
  }

  /** Installs a factory for nodes with no registered backend; later factories are asked last. */
  public static Registration addFactory(EngineBackendFactory factory) {
    Objects.requireNonNull(factory, "factory");
    FACTORIES.add(factory);
    return () -> FACTORIES.remove(factory);
  }

  /** The backend registered under {@code key}, or null. */
  public static EngineBackend registered(String key) {
    return BACKENDS.get(key);
  }

  static EngineBackend createFromFactories(EngineNode node) throws Exception {
    for (EngineBackendFactory f : FACTORIES) {
      EngineBackend b = f.create(node);
      if (b != null) return b;
    }
    return null;
  }
}
