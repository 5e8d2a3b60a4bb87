package dev.tftrt.build;

import dev.tftrt.util.Sha256;

import dev.tftrt.TftrtException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IEngineInspector;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;
import org.bytedeco.tensorrt.nvinfer.IRuntime;

/**
 * The deserialized engines of this process, one per plan (by SHA-256), shared by every model
 * that loads that plan.
 *
 * <p>Why process-wide: the preset gives objects TensorRT returns no deallocator, so an engine
 * or execution context can never be freed from Java (TENSORRT.md, section 3). Deserializing a
 * plan on every model load would grow GPU memory by the engine's weights each time; interning
 * engines (and pooling their execution contexts, see {@link Loaded#idleContexts}) bounds it by
 * the number of distinct plans and the peak number of concurrent callers. Activation memory is
 * ours (user-managed context memory) and is freed when a model closes.
 *
 * <p>One {@link IRuntime} serves every engine; it and its logger live for the process, as
 * TensorRT requires a runtime to outlive its engines.
 */
public final class TrtEngines {
  private static final Map<String, Loaded> BY_SHA = new ConcurrentHashMap<>();
  private static TrtLogger logger;
  private static IRuntime runtime;
  private static IRuntime hostCodeRuntime;

  private TrtEngines() {}

  /** One deserialized engine and the execution contexts no caller is using now. */
  public static final class Loaded {
    private final String sha256;
    private final ICudaEngine engine;
    /** Contexts (kUSER_MANAGED: they hold no activation memory of their own) free for reuse. */
    public final ConcurrentLinkedDeque<IExecutionContext> idleContexts = new ConcurrentLinkedDeque<>();

    Loaded(String sha256, ICudaEngine engine) {
      this.sha256 = sha256;
      this.engine = engine;
    }

    public ICudaEngine engine() {
      return engine;
    }

    public String sha256() {
      return sha256;
    }

    /** An idle context, or a new one whose device memory the caller provides (setDeviceMemoryV2). */
    public IExecutionContext acquireContext() {
      IExecutionContext c = idleContexts.pollFirst();
      if (c != null) return c;
      synchronized (engine) {
        c = engine.createExecutionContext(nvinfer.ExecutionContextAllocationStrategy.kUSER_MANAGED);
      }
      if (c == null || c.isNull()) {
        throw new IllegalStateException("TensorRT could not create an execution context" + lastError());
      }
      return c;
    }

    public void releaseContext(IExecutionContext c) {
      idleContexts.offerFirst(c);
    }

    /** The engine inspector's JSON (TensorRT 11 schema; detailed when built kDETAILED). */
    public String inspectorJson() {
      synchronized (engine) {
        IEngineInspector in = engine.createEngineInspector();
        if (in == null || in.isNull()) return null;
        return in.getEngineInformation(nvinfer.LayerInformationFormat.kJSON);
      }
    }
  }

  /** The engine of {@code plan} (already checksummed by the caller), deserialized once per process. */
  public static Loaded load(byte[] plan, boolean versionCompatible) {
    String sha = Sha256.hex(plan);
    Loaded l = BY_SHA.get(sha);
    if (l != null) return l;
    synchronized (TrtEngines.class) {
      l = BY_SHA.get(sha);
      if (l != null) return l;
      IRuntime rt = runtime(versionCompatible);
      BytePointer blob = new BytePointer(plan);
      ICudaEngine e;
      try {
        e = rt.deserializeCudaEngine(blob, plan.length);
      } finally {
        blob.close(); // TensorRT copies what it needs during deserialization
      }
      if (e == null || e.isNull()) {
        throw new TftrtException("TensorRT cannot deserialize the engine plan (SHA-256 " + sha + ")"
            + lastError() + "; build it again (tftrt build on the converted model, or delete it from the engine cache"
            + " it came from).");
      }
      l = new Loaded(sha, e);
      BY_SHA.put(sha, l);
      return l;
    }
  }

  /** The process's logger (created with the runtime). */
  public static synchronized TrtLogger logger() {
    if (logger == null) logger = new TrtLogger();
    return logger;
  }

  private static IRuntime runtime(boolean hostCode) {
    if (hostCode) {
      if (hostCodeRuntime == null) {
        hostCodeRuntime = newRuntime();
        // version-compatible plans embed the lean runtime, which is host code
        hostCodeRuntime.setEngineHostCodeAllowed(true);
      }
      return hostCodeRuntime;
    }
    if (runtime == null) runtime = newRuntime();
    return runtime;
  }

  private static IRuntime newRuntime() {
    IRuntime r = nvinfer.createInferRuntime(logger());
    if (r == null || r.isNull()) throw new IllegalStateException("TensorRT could not create a runtime" + lastError());
    return r;
  }

  static String lastError() {
    TrtLogger l = logger;
    String m = l == null ? null : l.lastError();
    return m == null ? "" : " (TensorRT: " + m.strip() + ")";
  }
}
