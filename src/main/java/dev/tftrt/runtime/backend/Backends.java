package dev.tftrt.runtime.backend;

import dev.tftrt.runtime.ort.OrtOptions;

import dev.tftrt.TftrtException;
import dev.tftrt.runtime.engine.EngineBackend;
import dev.tftrt.runtime.engine.EngineBackendFactory;
import dev.tftrt.runtime.engine.EngineNode;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Which backend runs an engine node, and creating it.
 *
 * <p>The choice is the node's own {@code backend} attribute (set at convert time), unless an
 * override (given at load time) replaces it for every node. Either names a {@link Backend}:
 *
 * <ul>
 *   <li>{@link Backend#AUTO}: tensorrt where a GPU and TensorRT are usable (never, in this
 *       build: the TensorRT backend arrives later; the reason is logged at INFO each time a
 *       backend is created), else onnxruntime when the node carries an ONNX model, else
 *       tensorflow when it carries its segment. A node whose ONNX model ONNX Runtime cannot
 *       load is an error, not a silent fall back to TensorFlow.
 *   <li>{@link Backend#TENSORRT}: an error in this build, saying so.
 *   <li>{@link Backend#ONNXRUNTIME}: {@link OnnxRuntimeBackend}; an error when the node has no ONNX.
 *   <li>{@link Backend#TENSORFLOW}: {@link TensorFlowBackend}; an error when the node has no segment.
 * </ul>
 *
 * Every error is a {@link TftrtException} with one sentence naming the node.
 */
public final class Backends {
  private static final Logger LOG = Logger.getLogger(Backends.class.getName());

  private Backends() {}

  /**
   * A factory applying this policy to every engine node: {@code override} null uses each
   * node's own {@code backend} attribute; otherwise that backend for all nodes.
   */
  public static EngineBackendFactory factory(Backend override) {
    return factory(override, node -> true);
  }

  /**
   * As {@link #factory(Backend)}, for the engine nodes {@code scope} accepts only (the factory
   * returns null for the others, leaving them to other factories or registrations), so that
   * several factories can be installed in {@link dev.tftrt.runtime.engine.EngineRegistry} at
   * once without taking each other's nodes.
   */
  public static EngineBackendFactory factory(Backend override, Predicate<EngineNode> scope) {
    Objects.requireNonNull(scope, "scope");
    return node -> scope.test(node) ? create(node, override, OrtOptions.defaults()) : null;
  }

  /** Scoped to nodes whose {@code key} attribute starts with {@code keyPrefix}. */
  public static EngineBackendFactory factoryForKeys(Backend override, String keyPrefix) {
    Objects.requireNonNull(keyPrefix, "keyPrefix");
    return factory(override, node -> node.key().startsWith(keyPrefix));
  }

  /** Creates the backend this policy picks for {@code node}, ONNX Runtime on its defaults; the caller closes it. */
  public static EngineBackend create(EngineNode node, Backend override) {
    return create(node, override, OrtOptions.defaults());
  }

  /** Creates the backend this policy picks for {@code node}; the caller closes it. */
  public static EngineBackend create(EngineNode node, Backend override, OrtOptions ort) {
    Backend choice = chosen(node, override);
    if (requested(node, override) == Backend.AUTO) {
      // Logged per backend made, not remembered per node: a set of logged nodes grew with every load.
      LOG.log(Level.INFO, () -> "engine node " + node.name() + ": tensorrt skipped ("
          + tensorrtUnavailableReason() + "); using " + choice.label()
          + (choice == Backend.TENSORFLOW ? " (the node carries no ONNX model)" : ""));
    }
    switch (choice) {
      case ONNXRUNTIME:
        return new OnnxRuntimeBackend(node, ort);
      case TENSORFLOW:
        return new TensorFlowBackend(node);
      default:
        throw new IllegalStateException("unexpected backend " + choice);
    }
  }

  /**
   * The backend {@link #create} would use for {@code node}: {@link Backend#ONNXRUNTIME} or
   * {@link Backend#TENSORFLOW} (for reports). Throws {@link TftrtException} naming the node
   * where there is none: an explicit tensorrt, an unknown name in the node's attribute, or a
   * node lacking what its backend needs.
   */
  public static Backend chosen(EngineNode node, Backend override) {
    String where = "engine node '" + node.name() + "'";
    switch (requested(node, override)) {
      case AUTO:
        if (!node.onnx().isEmpty()) return Backend.ONNXRUNTIME;
        if (!node.segment().isEmpty()) return Backend.TENSORFLOW;
        throw new TftrtException(where + " carries neither an ONNX model nor its TensorFlow "
            + "segment (attrs '" + EngineNode.ATTR_ONNX + "' and '" + EngineNode.ATTR_SEGMENT
            + "' are empty), so no backend can run it.");
      case TENSORRT:
        throw new TftrtException(where + " asks for the tensorrt backend, which this build does "
            + "not provide yet; use --backend onnxruntime or tensorflow.");
      case ONNXRUNTIME:
        if (node.onnx().isEmpty()) {
          throw new TftrtException(where + " asks for the onnxruntime backend but carries no "
              + "ONNX model (attr '" + EngineNode.ATTR_ONNX + "' is empty); use --backend "
              + "tensorflow or auto.");
        }
        return Backend.ONNXRUNTIME;
      case TENSORFLOW:
        if (node.segment().isEmpty()) {
          throw new TftrtException(where + " asks for the tensorflow backend but carries no "
              + "TensorFlow segment (attr '" + EngineNode.ATTR_SEGMENT + "' is empty); use "
              + "--backend onnxruntime or auto.");
        }
        return Backend.TENSORFLOW;
      default:
        throw new IllegalStateException();
    }
  }

  /** The override, else the node's attribute (empty: auto); one sentence for an unknown attribute. */
  private static Backend requested(EngineNode node, Backend override) {
    if (override != null) return override;
    String attr = node.backend().strip();
    if (attr.isEmpty()) return Backend.AUTO;
    try {
      return Backend.parse(attr);
    } catch (TftrtException e) {
      throw new TftrtException("engine node '" + node.name() + "' asks for backend '" + node.backend()
          + "', which is not one of " + Backend.labels() + ".");
    }
  }

  /** Why auto does not pick TensorRT (always, until the TensorRT backend exists). */
  static String tensorrtUnavailableReason() {
    return "no TensorRT backend in this build";
  }
}
