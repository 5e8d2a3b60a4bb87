package dev.tftrt.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.tftrt.TftrtException;
import dev.tftrt.model.GraphDefs;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.DataType;

/**
 * Runs an ONNX model with ONNX Runtime on the CPU. Its inputs and outputs are keyed by their
 * ONNX names, which tftrt's exporter makes the TensorFlow tensor names ("node:0"), so they pair
 * with the TensorFlow model they came from.
 */
public final class OnnxRunner implements ModelRunner {
  private static volatile OrtEnvironment env;
  private static volatile int[] globalPool;

  private final String description;
  private final OrtSession session;
  private final List<TensorSpec> inputs;
  private final List<TensorSpec> outputs;

  public OnnxRunner(byte[] model, String description) {
    this.description = description;
    try {
      OrtSession.SessionOptions so = new OrtSession.SessionOptions();
      so.setSessionLogLevel(logLevel());
      session = environment().createSession(model, so);
      inputs = specs(session.getInputInfo());
      outputs = specs(session.getOutputInfo());
    } catch (OrtException e) {
      throw new TftrtException(description + " is not a valid ONNX model: " + OrtErrors.why(e) + ".", e);
    }
  }

  public static OnnxRunner open(Path file) {
    return new OnnxRunner(GraphDefs.readBytes(file), file.toString());
  }

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
    return e != null ? e : environment(dev.tftrt.runtime.backend.OrtOptions.DEFAULT_INTRA_OP_THREADS, 1);
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
      synchronized (OnnxRunner.class) {
        if (env == null) {
          Path tmp = nativeTempFolder();
          boolean sessionFileWasThere = java.nio.file.Files.exists(tmp.resolve(".ses"));
          try (OrtEnvironment.ThreadingOptions t = new OrtEnvironment.ThreadingOptions()) {
            if (intraOpThreads > 0) t.setGlobalIntraOpNumThreads(intraOpThreads);
            if (interOpThreads > 0) t.setGlobalInterOpNumThreads(interOpThreads);
            t.setGlobalSpinControl(false); // idle workers must not take cores from TensorFlow's threads
            env = OrtEnvironment.getEnvironment(logLevel(), "tftrt", t);
          } catch (OrtException ex) {
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

  private static List<TensorSpec> specs(Map<String, NodeInfo> infos) {
    List<TensorSpec> r = new ArrayList<>();
    for (Map.Entry<String, NodeInfo> e : infos.entrySet()) {
      if (!(e.getValue().getInfo() instanceof TensorInfo ti)) {
        throw new TftrtException("ONNX value '" + e.getKey() + "' is not a tensor, which tftrt does not support.");
      }
      r.add(new TensorSpec(e.getKey(), e.getKey(), dtype(ti.type, e.getKey()), ti.getShape()));
    }
    return r;
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

  @Override
  public String describe() {
    return description;
  }

  @Override
  public List<TensorSpec> inputs() {
    return inputs;
  }

  @Override
  public List<TensorSpec> outputs() {
    return outputs;
  }

  @Override
  public Map<String, HostTensor> run(Map<String, HostTensor> feeds) {
    Feeds.check(inputs, feeds, description);
    Map<String, OnnxTensor> in = new LinkedHashMap<>();
    try {
      for (TensorSpec s : inputs) in.put(s.key(), toOnnx(feeds.get(s.key())));
      Map<String, HostTensor> out = new LinkedHashMap<>();
      try (OrtSession.Result r = session.run(in)) {
        for (TensorSpec s : outputs) {
          OnnxTensor t = (OnnxTensor) r.get(s.key()).orElseThrow();
          out.put(s.key(), fromOnnx(t, s));
        }
      }
      return out;
    } catch (OrtException e) {
      throw new TftrtException(description + " failed to run: " + OrtErrors.why(e) + ".", e);
    } finally {
      for (OnnxTensor t : in.values()) t.close();
    }
  }

  static OnnxTensor toOnnx(HostTensor t) throws OrtException {
    if (t.dtype() == DataType.DT_STRING) {
      String[] s = new String[(int) t.numElements()];
      for (int i = 0; i < s.length; i++) s[i] = new String(t.string(i), java.nio.charset.StandardCharsets.UTF_8);
      return OnnxTensor.createTensor(environment(), s, t.shape());
    }
    ByteBuffer direct = ByteBuffer.allocateDirect(t.data().remaining()).order(ByteOrder.nativeOrder());
    direct.put(t.data()).flip();
    return OnnxTensor.createTensor(environment(), direct, t.shape(), javaType(t.dtype()));
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

  static HostTensor fromOnnx(OnnxTensor t, TensorSpec s) throws OrtException {
    TensorInfo info = t.getInfo();
    DataType dt = dtype(info.type, s.key());
    if (dt == DataType.DT_STRING) {
      String[] flat = (String[]) flatten(t.getValue(), (int) info.getNumElements());
      byte[][] b = new byte[flat.length][];
      for (int i = 0; i < flat.length; i++) b[i] = flat[i].getBytes(java.nio.charset.StandardCharsets.UTF_8);
      return HostTensor.ofStrings(info.getShape(), b);
    }
    return HostTensor.of(dt, info.getShape(), t.getByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
  }

  private static Object flatten(Object v, int n) {
    String[] out = new String[n];
    int[] at = {0};
    flattenInto(v, out, at);
    return out;
  }

  private static void flattenInto(Object v, String[] out, int[] at) {
    if (v instanceof String s) {
      out[at[0]++] = s;
    } else {
      for (Object o : (Object[]) v) flattenInto(o, out, at);
    }
  }

  private static String firstLine(Exception e) {
    String m = e.getMessage() == null ? e.toString() : e.getMessage().strip();
    int nl = m.indexOf('\n');
    m = nl > 0 ? m.substring(0, nl) : m;
    return m.endsWith(".") ? m.substring(0, m.length() - 1) : m;
  }

  @Override
  public void close() {
    try {
      session.close();
    } catch (OrtException e) {
      throw new TftrtException(description + " could not be closed: " + firstLine(e) + ".", e);
    }
  }
}
