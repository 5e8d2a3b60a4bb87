package dev.tftrt.runtime.ort;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtLoggingLevel;
import dev.tftrt.TftrtException;
import dev.tftrt.tensor.DTypes;
import java.nio.file.Path;
import org.tensorflow.proto.DataType;

/**
 * ONNX Runtime for the whole process: its one environment (quiet, and without the files it
 * leaves behind) and the mapping between its element types and TensorFlow's dtypes. Shared by
 * the runner of ONNX files and the engine backend, below both.
 */
public final class Ort {
  private Ort() {}

  private static volatile OrtEnvironment env;
  private static volatile int[] globalPool;

  /**
   * ONNX Runtime logs its errors itself, in colour, on stderr; tftrt says what failed in its own
   * words, so ORT's lines show only when the library's logging is verbose (the CLI's --verbose).
   */
  public static OrtLoggingLevel logLevel() {
    return java.util.logging.Logger.getLogger("dev.tftrt").isLoggable(java.util.logging.Level.INFO)
        ? OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR : OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
  }

  /** One ONNX Runtime environment per JVM, quiet unless something fails. */
  public static OrtEnvironment environment() {
    OrtEnvironment e = env;
    return e != null ? e : environment(OrtOptions.DEFAULT_INTRA_OP_THREADS, 1);
  }

  /**
   * The environment; when it does not exist yet it is created with a global thread pool of these
   * sizes (0: ONNX Runtime's default), spinning off. The pool is what engine sessions share
   * ({@link dev.tftrt.runtime.backend.OrtEnvironments}); other sessions keep their own pools.
   * The first creation in a process wins: later sizes are ignored (see {@link #globalPool()}).
   */
  public static OrtEnvironment environment(int intraOpThreads, int interOpThreads) {
    OrtEnvironment e = env;
    if (e == null) {
      synchronized (Ort.class) {
        if (env == null) {
          Path tmp = nativeTempFolder();
          boolean sessionFileWasThere = java.nio.file.Files.exists(tmp.resolve(".ses"));
          try (OrtEnvironment.ThreadingOptions t = new OrtEnvironment.ThreadingOptions()) {
            if (intraOpThreads > 0) t.setGlobalIntraOpNumThreads(intraOpThreads);
            if (interOpThreads > 0) t.setGlobalInterOpNumThreads(interOpThreads);
            t.setGlobalSpinControl(false); // idle workers must not take cores from TensorFlow's threads
            env = OrtEnvironment.getEnvironment(logLevel(), "tftrt", t);
          } catch (ai.onnxruntime.OrtException ex) {
            throw new TftrtException("ONNX Runtime could not start: " + OrtErrors.why(ex) + ".", ex);
          }
          globalPool = new int[] {intraOpThreads, interOpThreads};
          removeNativeExtractionFolder();
          removeNativeLeftovers(tmp, sessionFileWasThere);
        }
        e = env;
      }
    }
    return e;
  }

  /** The intra- and inter-op sizes the environment's global pool was created with (0: ORT's default); null before. */
  public static int[] globalPool() {
    int[] p = globalPool;
    return p == null ? null : p.clone();
  }

  /**
   * ONNX Runtime copies its native libraries into a new java.io.tmpdir/onnxruntime-java* folder
   * and only asks for the folder to be deleted at exit, after its files, in an order that
   * leaves it behind (empty) in every JVM. The libraries are loaded by now, so the folder goes
   * now. ONNX Runtime keeps its path in a private field; without that field nothing is removed.
   */
  private static void removeNativeExtractionFolder() {
    Path dir;
    try {
      java.lang.reflect.Field f = Class.forName("ai.onnxruntime.OnnxRuntime").getDeclaredField("tempDirectory");
      f.setAccessible(true);
      dir = (Path) f.get(null);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return;
    }
    if (dir == null || !dir.getFileName().toString().startsWith("onnxruntime-java")) return;
    try (var files = java.nio.file.Files.list(dir)) {
      for (Path p : files.toList()) java.nio.file.Files.deleteIfExists(p);
      java.nio.file.Files.deleteIfExists(dir);
    } catch (java.io.IOException e) {
      // left for ONNX Runtime's own delete-on-exit
    }
  }

  /** Where ONNX Runtime's native code writes: $TMPDIR, else /tmp. */
  private static Path nativeTempFolder() {
    String t = System.getenv("TMPDIR");
    return Path.of(t == null || t.isBlank() ? "/tmp" : t);
  }

  /**
   * ONNX Runtime's native library, as it starts, leaves an empty mat-debug-PID.log and a .ses
   * id file in the temp folder, for every process. The log is this process's own (its pid) and
   * goes when empty; .ses goes only when this process created it.
   */
  private static void removeNativeLeftovers(Path tmp, boolean sessionFileWasThere) {
    try {
      Path log = tmp.resolve("mat-debug-" + ProcessHandle.current().pid() + ".log");
      if (java.nio.file.Files.isRegularFile(log, java.nio.file.LinkOption.NOFOLLOW_LINKS)
          && java.nio.file.Files.size(log) == 0) {
        java.nio.file.Files.deleteIfExists(log);
      }
      Path ses = tmp.resolve(".ses");
      if (!sessionFileWasThere && java.nio.file.Files.isRegularFile(ses, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        java.nio.file.Files.deleteIfExists(ses);
      }
    } catch (java.io.IOException e) {
      // best effort: these are ONNX Runtime's files, and nothing depends on their removal
    }
  }

  /** The TensorFlow dtype of an ONNX Runtime element type; {@code name} is for the message. */
  public static DataType dtype(OnnxJavaType t, String name) {
    switch (t) {
      case FLOAT: return DataType.DT_FLOAT;
      case DOUBLE: return DataType.DT_DOUBLE;
      case FLOAT16: return DataType.DT_HALF;
      case BFLOAT16: return DataType.DT_BFLOAT16;
      case INT8: return DataType.DT_INT8;
      case UINT8: return DataType.DT_UINT8;
      case INT16: return DataType.DT_INT16;
      case INT32: return DataType.DT_INT32;
      case INT64: return DataType.DT_INT64;
      case BOOL: return DataType.DT_BOOL;
      case STRING: return DataType.DT_STRING;
      default: throw new TftrtException("ONNX value '" + name + "' has type " + t + ", which tftrt does not support.");
    }
  }

  /** The ONNX Runtime element type of a TensorFlow dtype. */
  public static OnnxJavaType javaType(DataType t) {
    switch (t) {
      case DT_FLOAT: return OnnxJavaType.FLOAT;
      case DT_DOUBLE: return OnnxJavaType.DOUBLE;
      case DT_HALF: return OnnxJavaType.FLOAT16;
      case DT_BFLOAT16: return OnnxJavaType.BFLOAT16;
      case DT_INT8: return OnnxJavaType.INT8;
      case DT_UINT8: return OnnxJavaType.UINT8;
      case DT_INT16: return OnnxJavaType.INT16;
      case DT_INT32: return OnnxJavaType.INT32;
      case DT_INT64: return OnnxJavaType.INT64;
      case DT_BOOL: return OnnxJavaType.BOOL;
      default: throw new TftrtException("ONNX Runtime does not take " + DTypes.name(t) + " tensors.");
    }
  }
}
