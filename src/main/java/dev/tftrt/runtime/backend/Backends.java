package dev.tftrt.runtime.backend;

import dev.tftrt.TftrtException;
import dev.tftrt.runtime.engine.EngineBackend;
import dev.tftrt.runtime.engine.EngineBackendFactory;
import dev.tftrt.runtime.engine.EngineNode;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
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
 *   <li>{@value #AUTO}: {@value #TENSORRT} where a GPU and TensorRT are usable ({@link
 *       dev.tftrt.build.GpuDetection}) and the node carries an ONNX model, else {@value
 *       #ONNXRUNTIME} when it carries one, else {@value #TENSORFLOW} when it carries its
 *       segment; why TensorRT was skipped is logged once per process at INFO. A node whose
 *       engine cannot be built, or whose ONNX model ONNX Runtime cannot load, is an error, not a
 *       silent fall back.
 *   <li>{@value #TENSORRT}: {@link TensorRtBackend}; where no GPU is usable, an error saying
 *       which part is missing.
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
  /** Whether auto's skipping of TensorRT has been logged (once per process). */
  static final java.util.concurrent.atomic.AtomicBoolean LOGGED = new java.util.concurrent.atomic.AtomicBoolean();

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
    return create(node, override, null);
  }

  /**
   * As {@link #create(EngineNode, String)} for a node of the converted model in {@code
   * modelDir} (null: none), whose {@code engines/} folder the tensorrt backend searches too.
   */
  public static EngineBackend create(EngineNode node, String override, java.nio.file.Path modelDir) {
    String choice = chosen(node, override); // logs auto's reason, checks attrs
    switch (choice) {
      case TENSORRT:
        return TensorRtBackend.create(node, modelDir);
      case ONNXRUNTIME:
        return new OnnxRuntimeBackend(node);
      case TENSORFLOW:
        return new TensorFlowBackend(node);
      default:
        throw new IllegalStateException("unexpected backend " + choice);
    }
  }

  /**
   * The backend {@link #create} would use for {@code node}: {@value #TENSORRT}, {@value
   * #ONNXRUNTIME} or {@value #TENSORFLOW} (for reports). Throws {@link TftrtException} naming the
   * node where there is none: {@value #TENSORRT} without a usable GPU, an unknown name, or a node
   * lacking what its backend needs. An {@value #AUTO} choice that skips TensorRT logs why, once
   * per process.
   */
  public static String chosen(EngineNode node, String override) {
    String o = checkOverride(override);
    String where = "engine node '" + node.name() + "'";
    String requested = o != null ? o : node.backend().strip().toLowerCase(Locale.ROOT);
    if (requested.isEmpty()) requested = AUTO;
    switch (requested) {
      case AUTO: {
        String unusable = tensorrtUnavailableReason();
        if (unusable == null && !node.onnx().isEmpty()) return TENSORRT;
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
        if (unusable != null && LOGGED.compareAndSet(false, true)) {
          LOG.log(Level.INFO, () -> "backend auto: tensorrt skipped (" + unusable + "); engine nodes run on "
              + "onnxruntime, or tensorflow where a node carries no ONNX model");
        }
        return fallback;
      }
      case TENSORRT: {
        String unusable = tensorrtUnavailableReason();
        if (unusable != null) {
          throw new TftrtException(where + " asks for the tensorrt backend, but " + unusable);
        }
        if (node.onnx().isEmpty()) {
          throw new TftrtException(where + " asks for the tensorrt backend but carries no ONNX model (attr '"
              + EngineNode.ATTR_ONNX + "' is empty) to build its engine from; use --backend tensorflow or auto.");
        }
        return TENSORRT;
      }
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

  /** Why TensorRT cannot run here (GpuDetection's sentence), or null where it can. */
  static String tensorrtUnavailableReason() {
    return dev.tftrt.build.GpuDetection.detect().problem();
  }
}
