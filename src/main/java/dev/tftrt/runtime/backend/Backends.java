package dev.tftrt.runtime.backend;

import dev.tftrt.TftrtException;
import dev.tftrt.runtime.engine.EngineBackend;
import dev.tftrt.runtime.engine.EngineBackendFactory;
import dev.tftrt.runtime.engine.EngineNode;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Which backend runs an engine node, and creating it.
 *
 * <p>The choice is the node's own {@code backend} attribute (set at convert time), unless an
 * override (given at load time) replaces it for every node. Either names one of:
 *
 * <ul>
 *   <li>{@value #AUTO}: {@value #TENSORRT} where a GPU and TensorRT are usable (never, in this
 *       build: the TensorRT backend arrives later; the reason is logged once per node at INFO),
 *       else {@value #ONNXRUNTIME} when the node carries an ONNX model, else {@value #TENSORFLOW}
 *       when it carries its segment. A node whose ONNX model ONNX Runtime cannot load is an
 *       error, not a silent fall back to TensorFlow.
 *   <li>{@value #TENSORRT}: an error in this build, saying so.
 *   <li>{@value #ONNXRUNTIME}: {@link OnnxRuntimeBackend}; an error when the node has no ONNX.
 *   <li>{@value #TENSORFLOW}: {@link TensorFlowBackend}; an error when the node has no segment.
 * </ul>
 *
 * Every error is a {@link TftrtException} with one sentence naming the node.
 */
public final class Backends {
  public static final String AUTO = "auto";
  public static final String TENSORRT = "tensorrt";
  public static final String ONNXRUNTIME = "onnxruntime";
  public static final String TENSORFLOW = "tensorflow";
  /** The names a backend choice may take. */
  public static final List<String> NAMES = List.of(AUTO, TENSORRT, ONNXRUNTIME, TENSORFLOW);

  private static final Logger LOG = Logger.getLogger(Backends.class.getName());
  /** Nodes (registry key + name) whose auto choice has been logged. */
  private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();

  private Backends() {}

  /**
   * A factory applying this policy to every engine node: {@code override} null uses each
   * node's own {@code backend} attribute; otherwise one of {@link #NAMES} for all nodes.
   * Throws IllegalArgumentException for any other override.
   */
  public static EngineBackendFactory factory(String override) {
    return factory(override, node -> true);
  }

  /**
   * As {@link #factory(String)}, for the engine nodes {@code scope} accepts only (the factory
   * returns null for the others, leaving them to other factories or registrations), so that
   * several factories can be installed in {@link dev.tftrt.runtime.engine.EngineRegistry} at
   * once without taking each other's nodes.
   */
  public static EngineBackendFactory factory(String override, Predicate<EngineNode> scope) {
    String o = checkOverride(override);
    Objects.requireNonNull(scope, "scope");
    return node -> scope.test(node) ? create(node, o) : null;
  }

  /** Scoped to nodes whose {@code key} attribute starts with {@code keyPrefix}. */
  public static EngineBackendFactory factoryForKeys(String override, String keyPrefix) {
    Objects.requireNonNull(keyPrefix, "keyPrefix");
    return factory(override, node -> node.key().startsWith(keyPrefix));
  }

  /** Creates the backend this policy picks for {@code node}; the caller closes it. */
  public static EngineBackend create(EngineNode node, String override) {
    String choice = chosen(node, override); // logs auto's reason, checks attrs
    switch (choice) {
      case ONNXRUNTIME:
        return new OnnxRuntimeBackend(node);
      case TENSORFLOW:
        return new TensorFlowBackend(node);
      default:
        throw new IllegalStateException("unexpected backend " + choice);
    }
  }

  /**
   * The backend {@link #create} would use for {@code node}: {@value #ONNXRUNTIME} or {@value
   * #TENSORFLOW} (for reports). Throws {@link TftrtException} naming the node where there is
   * none: an explicit {@value #TENSORRT}, an unknown name, or a node lacking what its backend
   * needs. An {@value #AUTO} choice that skips TensorRT logs why, once per node.
   */
  public static String chosen(EngineNode node, String override) {
    String o = checkOverride(override);
    String where = "engine node '" + node.name() + "'";
    String requested = o != null ? o : node.backend().strip().toLowerCase(Locale.ROOT);
    if (requested.isEmpty()) requested = AUTO;
    switch (requested) {
      case AUTO: {
        String fallback;
        if (!node.onnx().isEmpty()) {
          fallback = ONNXRUNTIME;
        } else if (!node.segment().isEmpty()) {
          fallback = TENSORFLOW;
        } else {
          throw new TftrtException(where + " carries neither an ONNX model nor its TensorFlow "
              + "segment (attrs '" + EngineNode.ATTR_ONNX + "' and '" + EngineNode.ATTR_SEGMENT
              + "' are empty), so no backend can run it.");
        }
        if (LOGGED.add(node.registryKey() + "\u0000" + node.name())) {
          LOG.log(Level.INFO, () -> "engine node " + node.name() + ": tensorrt skipped ("
              + tensorrtUnavailableReason() + "); using " + fallback
              + (fallback.equals(TENSORFLOW) ? " (the node carries no ONNX model)" : ""));
        }
        return fallback;
      }
      case TENSORRT:
        throw new TftrtException(where + " asks for the tensorrt backend, which this build does "
            + "not provide yet; use --backend onnxruntime or tensorflow.");
      case ONNXRUNTIME:
        if (node.onnx().isEmpty()) {
          throw new TftrtException(where + " asks for the onnxruntime backend but carries no "
              + "ONNX model (attr '" + EngineNode.ATTR_ONNX + "' is empty); use --backend "
              + "tensorflow or auto.");
        }
        return ONNXRUNTIME;
      case TENSORFLOW:
        if (node.segment().isEmpty()) {
          throw new TftrtException(where + " asks for the tensorflow backend but carries no "
              + "TensorFlow segment (attr '" + EngineNode.ATTR_SEGMENT + "' is empty); use "
              + "--backend onnxruntime or auto.");
        }
        return TENSORFLOW;
      default:
        throw new TftrtException(where + " asks for backend '" + node.backend() + "', which is "
            + "not one of " + String.join(", ", NAMES) + ".");
    }
  }

  /** Null for none, else the lower-cased name; IllegalArgumentException for an unknown name. */
  static String checkOverride(String override) {
    if (override == null) return null;
    String o = override.strip().toLowerCase(Locale.ROOT);
    if (!NAMES.contains(o)) {
      throw new IllegalArgumentException("unknown backend '" + override + "'; use one of "
          + String.join(", ", NAMES) + ".");
    }
    return o;
  }

  /** Why auto does not pick TensorRT (always, until the TensorRT backend exists). */
  static String tensorrtUnavailableReason() {
    return "no TensorRT backend in this build";
  }
}
