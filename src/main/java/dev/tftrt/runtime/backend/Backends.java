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
 *   <li>{@link Backend#AUTO}: tensorrt where a GPU and TensorRT are usable ({@link
 *       dev.tftrt.build.GpuDetection}) and the node carries an ONNX model, else onnxruntime when
 *       it carries one, else tensorflow when it carries its segment; why TensorRT was skipped is
 *       logged once per process at INFO (a per-node record grew with every load). A node whose
 *       engine cannot be built, or whose ONNX model ONNX Runtime cannot load, is an error, not
 *       a silent fall back.
 *   <li>{@link Backend#TENSORRT}: {@link TensorRtBackend}; where no GPU is usable, an error
 *       saying which part is missing.
 *   <li>{@link Backend#ONNXRUNTIME}: {@link OnnxRuntimeBackend}; an error when the node has no ONNX.
 *   <li>{@link Backend#TENSORFLOW}: {@link TensorFlowBackend}; an error when the node has no segment.
 * </ul>
 *
 * Every error is a {@link TftrtException} with one sentence naming the node.
 */
public final class Backends {
  private static final Logger LOG = Logger.getLogger(Backends.class.getName());

  /** Whether auto's skipping of TensorRT has been logged (once per process). */
  static final java.util.concurrent.atomic.AtomicBoolean LOGGED = new java.util.concurrent.atomic.AtomicBoolean();

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
    return node -> scope.test(node) ? create(node, override, OrtOptions.defaults(), null) : null;
  }

  /** Scoped to nodes whose {@code key} attribute starts with {@code keyPrefix}. */
  public static EngineBackendFactory factoryForKeys(Backend override, String keyPrefix) {
    Objects.requireNonNull(keyPrefix, "keyPrefix");
    return factory(override, node -> node.key().startsWith(keyPrefix));
  }

  /** Creates the backend this policy picks for {@code node}, ONNX Runtime on its defaults; the caller closes it. */
  public static EngineBackend create(EngineNode node, Backend override) {
    return create(node, override, OrtOptions.defaults(), null);
  }

  /**
   * Creates the backend this policy picks for {@code node} of the converted model in {@code
   * modelDir} (null: none; the tensorrt backend searches its {@code engines/} folder), ONNX
   * Runtime sessions on {@code ort}; the caller closes it.
   */
  public static EngineBackend create(EngineNode node, Backend override, OrtOptions ort, java.nio.file.Path modelDir) {
    return create(node, override, ort, modelDir, null);
  }

  /**
   * As {@link #create(EngineNode, Backend, OrtOptions, java.nio.file.Path)}; {@code
   * allowBuildAtRuntime} says whether the tensorrt backend may build an engine no cache holds
   * (null: {@link TensorRtSettings}'s, on by default).
   */
  public static EngineBackend create(EngineNode node, Backend override, OrtOptions ort, java.nio.file.Path modelDir,
      Boolean allowBuildAtRuntime) {
    Backend choice = chosen(node, override); // logs auto's reason, checks attrs
    switch (choice) {
      case TENSORRT:
        return TensorRtBackend.create(node, modelDir, allowBuildAtRuntime);
      case ONNXRUNTIME:
        return new OnnxRuntimeBackend(node, ort);
      case TENSORFLOW:
        return new TensorFlowBackend(node);
      default:
        throw new IllegalStateException("unexpected backend " + choice);
    }
  }

  /**
   * The backend {@link #create} would use for {@code node}: tensorrt, onnxruntime or tensorflow
   * (for reports). Throws {@link TftrtException} naming the node where there is none: tensorrt
   * without a usable GPU, an unknown name in the node's attribute, or a node lacking what its
   * backend needs. An auto choice that skips TensorRT logs why, once per process.
   */
  public static Backend chosen(EngineNode node, Backend override) {
    String where = "engine node '" + node.name() + "'";
    switch (requested(node, override)) {
      case AUTO: {
        String unusable = tensorrtUnavailableReason();
        if (unusable == null && !node.onnx().isEmpty()) return Backend.TENSORRT;
        Backend fallback;
        if (!node.onnx().isEmpty()) {
          fallback = Backend.ONNXRUNTIME;
        } else if (!node.segment().isEmpty()) {
          fallback = Backend.TENSORFLOW;
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
        return Backend.TENSORRT;
      }
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

  /**
   * Whether engines asked to run on {@code requested} run on the CPU here: onnxruntime and
   * tensorflow always, auto where TensorRT is not usable on this machine, tensorrt never. The
   * segmenter uses it to leave work that cannot pay for a CPU engine call in TensorFlow.
   */
  public static boolean runsOnCpu(Backend requested) {
    switch (requested) {
      case TENSORRT:
        return false;
      case AUTO:
        return tensorrtUnavailableReason() != null;
      default:
        return true;
    }
  }

  /** Why TensorRT cannot run here (GpuDetection's sentence), or null where it can. */
  static String tensorrtUnavailableReason() {
    return dev.tftrt.build.GpuDetection.detect().problem();
  }
}
