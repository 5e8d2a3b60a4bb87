package dev.tftrt.runtime.ort;

import ai.onnxruntime.OrtSession;
import dev.tftrt.convert.OnnxTypes;
import dev.tftrt.runtime.engine.EngineOp;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.util.List;
import org.tensorflow.proto.DataType;

/**
 * An ONNX Runtime session run by the engine kernel itself (native/src/ort_runner.cc), through
 * ONNX Runtime's C API, with no call into Java: inside a model, an engine call through Java and
 * ONNX Runtime's Java API costs 50-90 µs, several times a small engine's work. The session
 * stays the Java backend's: made, configured and closed there; this only hands the kernel its
 * native handle and ONNX Runtime's API table, both read from ONNX Runtime's Java classes.
 *
 * <p>{@link #create} returns null, and the backend keeps its Java path, where that is asked for
 * ({@link OrtOptions#nativeCalls} false) or this is not possible: the engine op's library not loaded (a backend used on its own), ONNX Runtime's
 * classes not open to reflection, a dtype with no ONNX element type, or an API table that fails
 * the native side's check.
 */
public final class OrtNativeRunner implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(OrtNativeRunner.class.getName());
  private static final MethodHandle API = field("ai.onnxruntime.OnnxRuntime", "ortApiHandle", true);
  private static final MethodHandle SESSION = field("ai.onnxruntime.OrtSession", "nativeHandle", false);

  private final long handle;
  private boolean closed;

  private OrtNativeRunner(long handle) {
    this.handle = handle;
  }

  /**
   * A runner for {@code session}, or null (with the reason at DEBUG) where there can be none.
   * {@code shapes}: each output's declared shape (-1 an unknown dimension, null an unknown
   * rank); {@code staticOutputs}: all of them fully known, so outputs are written in place.
   */
  public static OrtNativeRunner create(String node, OrtSession session, List<String> inputNames,
      List<DataType> inputTypes, List<String> outputNames, List<DataType> outputTypes,
      long[][] shapes, boolean staticOutputs) {
    String why = unavailable(inputTypes, outputTypes);
    if (why == null) {
      try {
        long api = (long) API.invokeExact();
        long s = (long) SESSION.invokeExact(session);
        long h = nativeCreate(node, api, s, inputNames.toArray(new String[0]), onnxTypes(inputTypes),
            outputNames.toArray(new String[0]), onnxTypes(outputTypes), tfTypes(outputTypes), shapes,
            staticOutputs);
        if (h != 0) return new OrtNativeRunner(h);
        why = "the native side made no runner";
      } catch (Throwable e) {
        why = e.getMessage() == null ? e.toString() : e.getMessage();
      }
    }
    String reason = why;
    LOG.log(System.Logger.Level.DEBUG, () -> "engine node '" + node + "' runs ONNX Runtime through Java: " + reason);
    return null;
  }

  private static String unavailable(List<DataType> in, List<DataType> out) {
    if (API == null || SESSION == null) return "ONNX Runtime's classes are not open to reflection";
    if (!EngineOp.isLoaded()) return "the engine op's library is not loaded";
    for (DataType t : in) if (onnxType(t) == 0) return "input dtype " + t + " has no ONNX element type here";
    for (DataType t : out) if (onnxType(t) == 0) return "output dtype " + t + " has no ONNX element type here";
    return null;
  }

  /** The native handle the engine kernel finds this runner by. */
  public long handle() {
    return handle;
  }

  /** No engine call runs through this runner once this returns; the session may then close. */
  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    nativeClose(handle);
  }

  /** Engine calls run natively so far in this process, by all runners (for tests). */
  public static long calls() {
    return EngineOp.isLoaded() ? nativeCalls() : 0;
  }

  /** ONNX's element type for a TensorFlow dtype, 0 where this path has none (strings have no fixed size). */
  static int onnxType(DataType t) {
    return dev.tftrt.tensor.DTypes.base(t) == DataType.DT_STRING || !OnnxTypes.hasElemType(t) ? 0 : OnnxTypes.elemType(t);
  }

  private static int[] onnxTypes(List<DataType> ts) {
    return ts.stream().mapToInt(OrtNativeRunner::onnxType).toArray();
  }

  private static int[] tfTypes(List<DataType> ts) {
    return ts.stream().mapToInt(DataType::getNumber).toArray();
  }

  /** A getter for a private long field of ONNX Runtime's Java API, or null where not accessible. */
  private static MethodHandle field(String cls, String name, boolean isStatic) {
    try {
      Class<?> c = Class.forName(cls, false, OrtSession.class.getClassLoader());
      MethodHandles.Lookup l = MethodHandles.privateLookupIn(c, MethodHandles.lookup());
      if (isStatic) return l.findStaticGetter(c, name, long.class);
      return l.findGetter(c, name, long.class).asType(java.lang.invoke.MethodType.methodType(long.class, OrtSession.class));
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  private static native long nativeCreate(String node, long api, long session, String[] inputNames,
      int[] inputTypes, String[] outputNames, int[] outputTypes, int[] outputTfTypes, long[][] outputShapes,
      boolean staticOutputs);

  private static native void nativeClose(long handle);

  private static native long nativeCalls();
}
