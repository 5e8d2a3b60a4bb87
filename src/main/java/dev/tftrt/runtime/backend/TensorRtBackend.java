package dev.tftrt.runtime.backend;

import static org.bytedeco.cuda.global.cudart.cudaEventCreate;
import static org.bytedeco.cuda.global.cudart.cudaEventDestroy;
import static org.bytedeco.cuda.global.cudart.cudaEventElapsedTime;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaFreeHost;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMallocHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaStreamCreateWithFlags;
import static org.bytedeco.cuda.global.cudart.cudaStreamDestroy;
import static org.bytedeco.cuda.global.cudart.cudaStreamNonBlocking;
import static org.bytedeco.cuda.global.cudart.cudaStreamSynchronize;

import dev.tftrt.TftrtException;
import dev.tftrt.build.Cuda;
import dev.tftrt.build.EngineBuilder;
import dev.tftrt.build.EngineProvider;
import dev.tftrt.build.GpuDetection;
import dev.tftrt.build.GpuInfo;
import dev.tftrt.build.ListedPlans;
import dev.tftrt.build.OnnxInputs;
import dev.tftrt.build.ShapeRange;
import dev.tftrt.build.ShapeRanges;
import dev.tftrt.build.TrtEngines;
import dev.tftrt.runtime.engine.EngineBackend;
import dev.tftrt.runtime.engine.EngineCall;
import dev.tftrt.runtime.engine.EngineNode;
import dev.tftrt.tensor.DTypes;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.global.nvinfer.OptProfileSelector;
import org.bytedeco.tensorrt.global.nvinfer.TensorIOMode;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;
import org.tensorflow.proto.DataType;

/**
 * Runs an engine node's TensorRT engine on the GPU ({@code --backend tensorrt}).
 *
 * <p>Per concurrent caller one {@link Slot}: an execution context (created {@code
 * kUSER_MANAGED}, so its activation memory is ours: the preset cannot free TensorRT objects, but
 * it can free what we cudaMalloc), its own non-blocking CUDA stream, device buffers per I/O
 * tensor and pinned host staging, all grown on demand and reused for every later call of that
 * shape or smaller. A call: input shapes set (checked against the engine's profile first), TF's
 * input bytes copied into pinned memory and sent asynchronously, {@code enqueueV3}, outputs copied
 * back, one stream synchronisation, then written into the buffers TensorFlow allocates for them.
 *
 * <p>Engines and contexts are shared per process ({@link TrtEngines}): closing this backend frees
 * our device and pinned memory and hands its contexts back, so loading and closing a model again
 * and again does not grow GPU memory.
 */
public final class TensorRtBackend implements EngineBackend {
  private final EngineNode node;
  private final TrtEngines.Loaded loaded;
  private final String[] inputNames;
  private final String[] outputNames;
  private final int[] outputElementBytes;
  private final ShapeRange[] ranges;
  private final long contextMemory;
  private final ConcurrentLinkedDeque<Slot> idle = new ConcurrentLinkedDeque<>();
  private final List<Slot> all = new ArrayList<>();
  private boolean closed;

  /**
   * The node's backend: its plan from a cache (see {@link TensorRtSettings}), else built now
   * when every input's profile is known, else built on the first call from that call's shapes
   * (a fixed profile: the shapes the model is verified or first run with). With building at run
   * time off, a missing plan is one sentence saying which part of the key differs.
   */
  public static EngineBackend create(EngineNode node, Path modelDir) {
    return create(node, modelDir, null);
  }

  /**
   * As {@link #create(EngineNode, Path)}; {@code allowBuildAtRuntime} (a load option; null: the
   * process's {@link TensorRtSettings}) says whether a plan no cache holds may be built now. The
   * plans the model's manifest lists ({@link ListedPlans}) are searched first.
   */
  public static EngineBackend create(EngineNode node, Path modelDir, Boolean allowBuildAtRuntime) {
    GpuInfo gpu = GpuDetection.detect();
    if (!gpu.usable()) {
      throw new TftrtException("engine node '" + node.name() + "' asks for the tensorrt backend, but "
          + gpu.problem());
    }
    TensorRtSettings s = TensorRtSettings.current();
    boolean vc = s.options().versionCompatible();
    EngineProvider provider = EngineProvider.onGpu(gpu, s.options(), s.caches(modelDir), ListedPlans.of(modelDir),
        s.progressBar());
    byte[] plan = planAtLoad(node, provider, s.allowBuild(allowBuildAtRuntime));
    return plan != null ? new TensorRtBackend(node, plan, vc) : new Lazy(node, provider, vc);
  }

  /**
   * The plan to load now: listed or cached, else built now when every input's profile is known
   * and building is allowed; null: built on the first call (building allowed, a profile only a
   * run can tell). With building off, a missing plan is one sentence saying which part of the
   * key differs. Needs no GPU given the provider, so the choice is tested on a CPU.
   */
  static byte[] planAtLoad(EngineNode node, EngineProvider provider, boolean allowBuild) {
    byte[] onnx = node.onnx().toByteArray();
    if (onnx.length == 0) {
      throw new TftrtException("engine node '" + node.name() + "' carries no ONNX model, so no TensorRT engine can be built for it.");
    }
    EngineProvider.Request req = new EngineProvider.Request(node.name(), onnx, node.precision(), Map.of());
    EngineProvider.Provided cached = provider.cached(req);
    if (cached != null) return cached.plan();
    if (!allowBuild || provider.profileKnown(req)) return provider.provide(req, allowBuild).plan();
    return null;
  }

  /** Builds on the first call, with that call's input shapes as the profile. */
  static final class Lazy implements EngineBackend {
    private final EngineNode node;
    private final EngineProvider provider;
    private final boolean versionCompatible;
    private volatile TensorRtBackend built;
    private boolean closed;

    Lazy(EngineNode node, EngineProvider provider, boolean versionCompatible) {
      this.node = node;
      this.provider = provider;
      this.versionCompatible = versionCompatible;
    }

    @Override
    public void run(EngineCall call) throws Exception {
      TensorRtBackend b = built;
      if (b == null) {
        synchronized (this) {
          if (closed) throw new IllegalStateException("the tensorrt backend of engine node '" + node.name() + "' is closed");
          b = built;
          if (b == null) {
            byte[] onnx = node.onnx().toByteArray();
            List<ShapeRanges.Input> ins = OnnxInputs.inputs(node.name(), onnx);
            Map<String, long[]> observed = new java.util.HashMap<>();
            for (int i = 0; i < ins.size() && i < call.numInputs(); i++) observed.put(ins.get(i).name(), call.inputShape(i));
            EngineProvider.Provided p = provider.provide(
                new EngineProvider.Request(node.name(), onnx, node.precision(), observed), true);
            built = b = new TensorRtBackend(node, p.plan(), versionCompatible);
          }
        }
      }
      b.run(call);
    }

    @Override
    public String describe() {
      return "tensorrt";
    }

    @Override
    public synchronized void close() {
      closed = true;
      if (built != null) built.close();
    }
  }

  /** Loads {@code plan} (checksummed by the cache) for {@code node}. */
  public TensorRtBackend(EngineNode node, byte[] plan, boolean versionCompatible) {
    this.node = node;
    String where = "engine node '" + node.name() + "'";
    byte[] onnx = node.onnx().toByteArray();
    List<ShapeRanges.Input> ins = OnnxInputs.inputs(node.name(), onnx);
    List<String> outs = OnnxInputs.outputs(node.name(), onnx);
    if (ins.size() != node.numInputs() || outs.size() != node.numOutputs()) {
      throw new TftrtException(where + " has " + node.numInputs() + " inputs and " + node.numOutputs()
          + " outputs but its ONNX model " + ins.size() + " and " + outs.size() + ".");
    }
    this.loaded = TrtEngines.load(plan, versionCompatible);
    ICudaEngine e = loaded.engine();
    inputNames = new String[ins.size()];
    ranges = new ShapeRange[ins.size()];
    for (int i = 0; i < inputNames.length; i++) {
      inputNames[i] = ins.get(i).name();
      checkTensor(e, where, inputNames[i], TensorIOMode.kINPUT, node.inputTypes().get(i));
      ranges[i] = range(e, inputNames[i]);
    }
    outputNames = outs.toArray(new String[0]);
    outputElementBytes = new int[outputNames.length];
    for (int i = 0; i < outputNames.length; i++) {
      checkTensor(e, where, outputNames[i], TensorIOMode.kOUTPUT, node.outputType(i));
      outputElementBytes[i] = DTypes.byteSize(node.outputType(i));
    }
    contextMemory = Math.max(e.getDeviceMemorySizeForProfileV2(0), e.getDeviceMemorySizeV2());
  }

  /**
   * The shapes the engine accepts for an input: its static shape where it has no unknown
   * dimension, else profile 0's min/opt/max (what getProfileShape returns for a static input is
   * not documented, so it is not relied on).
   */
  private static ShapeRange range(ICudaEngine e, String name) {
    long[] declared = dims(e.getTensorShape(name));
    boolean known = true;
    for (long d : declared) known &= d >= 0;
    if (known) return ShapeRange.fixed(name, declared);
    long[] min = dims(e.getProfileShape(name, 0, OptProfileSelector.kMIN));
    long[] opt = dims(e.getProfileShape(name, 0, OptProfileSelector.kOPT));
    long[] max = dims(e.getProfileShape(name, 0, OptProfileSelector.kMAX));
    if (min.length != declared.length || opt.length != declared.length || max.length != declared.length) {
      throw new IllegalStateException("TensorRT reports no optimisation profile for input '" + name + "' of shape "
          + EngineNode.describeShape(declared));
    }
    return new ShapeRange(name, min, opt, max);
  }

  private static void checkTensor(ICudaEngine e, String where, String name, TensorIOMode mode, DataType tf) {
    TensorIOMode m = e.getTensorIOMode(name).intern(); // enums from native code are not canonical
    if (m != mode) {
      throw new TftrtException(where + ": its TensorRT engine has no " + (mode == TensorIOMode.kINPUT ? "input" : "output")
          + " tensor '" + name + "'; the engine was built from another ONNX model.");
    }
    nvinfer.DataType t = e.getTensorDataType(name).intern();
    if (t != trtType(tf)) {
      throw new TftrtException(where + ": its TensorRT engine's tensor '" + name + "' is " + t + " but the node declares "
          + DTypes.name(tf) + ".");
    }
  }

  /** TensorRT's type for a TensorFlow dtype (null where TensorRT has none). */
  static nvinfer.DataType trtType(DataType t) {
    return switch (t) {
      case DT_FLOAT -> nvinfer.DataType.kFLOAT;
      case DT_HALF -> nvinfer.DataType.kHALF;
      case DT_BFLOAT16 -> nvinfer.DataType.kBF16;
      case DT_INT8 -> nvinfer.DataType.kINT8;
      case DT_UINT8 -> nvinfer.DataType.kUINT8;
      case DT_INT32 -> nvinfer.DataType.kINT32;
      case DT_INT64 -> nvinfer.DataType.kINT64;
      case DT_BOOL -> nvinfer.DataType.kBOOL;
      default -> null;
    };
  }

  private static long[] dims(Dims64 d) {
    long[] r = new long[Math.max(0, d.nbDims())];
    for (int i = 0; i < r.length; i++) r[i] = d.d(i);
    return r;
  }

  /** One caller's context, stream and buffers. */
  private final class Slot {
    final IExecutionContext context;
    final CUstream_st stream = new CUstream_st();
    final Pointer contextMem = new Pointer();
    final Pointer[] device;
    final long[] deviceBytes;
    final Pointer[] host;
    final long[] hostBytes;
    final StageTimes times = new StageTimes(() -> new CudaEvents(stream)); // events only once timed

    Slot() {
      int n = inputNames.length + outputNames.length;
      device = new Pointer[n];
      deviceBytes = new long[n];
      host = new Pointer[n];
      hostBytes = new long[n];
      IExecutionContext c = loaded.acquireContext();
      try {
        Cuda.check(cudaStreamCreateWithFlags(stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
        if (contextMemory > 0) {
          Cuda.check(cudaMalloc(contextMem, contextMemory), "cudaMalloc of " + contextMemory + " bytes of activation memory");
        }
        // user-managed: our memory, sized for the largest shape of the profile, reused for every call
        c.setDeviceMemoryV2(contextMem, contextMemory);
      } catch (RuntimeException ex) {
        loaded.releaseContext(c);
        free();
        throw ex;
      }
      this.context = c;
    }

    Pointer device(int i, long bytes) {
      if (deviceBytes[i] < bytes || device[i] == null) {
        if (device[i] != null) cudaFree(device[i]);
        device[i] = new Pointer();
        long size = Math.max(bytes, 256);
        Cuda.check(cudaMalloc(device[i], size), "cudaMalloc of " + size + " bytes");
        deviceBytes[i] = size;
      }
      return device[i];
    }

    ByteBuffer host(int i, long bytes) {
      if (hostBytes[i] < bytes || host[i] == null) {
        if (host[i] != null) cudaFreeHost(host[i]);
        host[i] = new Pointer();
        long size = Math.max(bytes, 256);
        Cuda.check(cudaMallocHost(host[i], size), "cudaMallocHost of " + size + " bytes");
        hostBytes[i] = size;
      }
      return new BytePointer(host[i]).capacity(bytes).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    void free() {
      cudaStreamSynchronize(stream);
      for (int i = 0; i < device.length; i++) {
        if (device[i] != null) cudaFree(device[i]);
        if (host[i] != null) cudaFreeHost(host[i]);
        device[i] = host[i] = null;
        deviceBytes[i] = hostBytes[i] = 0;
      }
      if (!contextMem.isNull()) cudaFree(contextMem);
      times.close();
      if (!stream.isNull()) cudaStreamDestroy(stream);
    }
  }

  private Slot acquire() {
    Slot s = idle.pollFirst();
    if (s != null) return s;
    s = new Slot();
    synchronized (this) {
      if (closed) {
        s.free();
        loaded.releaseContext(s.context);
        throw new IllegalStateException("the tensorrt backend of engine node '" + node.name() + "' is closed");
      }
      all.add(s);
    }
    return s;
  }

  private void release(Slot s, boolean healthy) {
    synchronized (this) {
      if (!closed && healthy) {
        idle.offerFirst(s);
        return;
      }
      all.remove(s);
    }
    s.free();
    if (healthy) loaded.releaseContext(s.context); // a context that failed mid-call is not reused
  }

  @Override
  public void run(EngineCall call) throws Exception {
    synchronized (this) {
      if (closed) throw new IllegalStateException("the tensorrt backend of engine node '" + node.name() + "' is closed");
    }
    int nIn = inputNames.length;
    if (call.numInputs() != nIn) {
      throw new IllegalStateException("the call has " + call.numInputs() + " inputs, the engine " + nIn);
    }
    for (int i = 0; i < nIn; i++) checkProfile(node.name(), i, inputNames[i], ranges[i], call.inputShape(i));
    Slot s = acquire();
    boolean healthy = false;
    try {
      // Host staging first, so the host-to-device time is the copies' alone, not our memcpy too.
      long[] inBytes = new long[nIn];
      for (int i = 0; i < nIn; i++) {
        ByteBuffer in = call.input(i);
        inBytes[i] = in.remaining();
        if (!s.context.setInputShape(inputNames[i], EngineBuilder.dims64(call.inputShape(i)))) {
          throw new IllegalStateException("TensorRT refuses the shape " + EngineNode.describeShape(call.inputShape(i))
              + " for input '" + inputNames[i] + "'" + lastError());
        }
        s.host(i, in.remaining()).put(in);
      }
      boolean timed = s.times.begin();
      for (int i = 0; i < nIn; i++) {
        long bytes = inBytes[i];
        Pointer d = s.device(i, bytes);
        Cuda.check(cudaMemcpyAsync(d, s.host[i], bytes, cudaMemcpyHostToDevice, s.stream), "cudaMemcpyAsync to the GPU");
        if (!s.context.setTensorAddress(inputNames[i], d)) throw new IllegalStateException("setTensorAddress failed" + lastError());
      }
      long[][] outShapes = new long[outputNames.length][];
      long[] outBytes = new long[outputNames.length];
      for (int o = 0; o < outputNames.length; o++) {
        long[] shape = dims(s.context.getTensorShape(outputNames[o]));
        outShapes[o] = shape;
        outBytes[o] = outputBytes(node.name(), outputNames[o], shape, outputElementBytes[o]);
        Pointer d = s.device(nIn + o, outBytes[o]);
        if (!s.context.setTensorAddress(outputNames[o], d)) throw new IllegalStateException("setTensorAddress failed" + lastError());
      }
      s.times.mark(timed, StageTimes.BEFORE_COMPUTE);
      if (!s.context.enqueueV3(s.stream)) throw new IllegalStateException("TensorRT's enqueueV3 failed" + lastError());
      s.times.mark(timed, StageTimes.AFTER_COMPUTE);
      for (int o = 0; o < outputNames.length; o++) {
        s.host(nIn + o, outBytes[o]);
        Cuda.check(cudaMemcpyAsync(s.host[nIn + o], s.device[nIn + o], outBytes[o], cudaMemcpyDeviceToHost, s.stream),
            "cudaMemcpyAsync from the GPU");
      }
      s.times.mark(timed, StageTimes.AFTER_D2H);
      Cuda.check(cudaStreamSynchronize(s.stream), "running the TensorRT engine (cudaStreamSynchronize)");
      for (int o = 0; o < outputNames.length; o++) {
        ByteBuffer out = call.allocateOutput(o, outShapes[o]);
        out.put(s.host(nIn + o, outBytes[o]));
      }
      s.times.report(timed); // the events are complete: the stream has synchronised
      healthy = true;
    } finally {
      if (!healthy) cudaStreamSynchronize(s.stream); // no copy may still target buffers we reuse or free
      release(s, healthy);
    }
  }

  /** Refuses, in one sentence, a call whose input shape is outside the engine's profile. */
  static void checkProfile(String node, int i, String input, ShapeRange range, long[] shape) {
    if (!range.contains(shape)) {
      throw new TftrtException("engine node '" + node + "' input " + i + " ('" + input + "') has the shape "
          + EngineNode.describeShape(shape) + ", outside its TensorRT engine's profile " + range.canonical()
          + "; rebuild the engine with a --shape-range that covers it.");
    }
  }

  /**
   * The bytes of an output of the shape the context resolved; one sentence where a dimension is
   * still unknown (-1: the shape depends on the input values, which would need an output
   * allocator, a callback the preset does not let Java implement, TENSORRT.md section 2).
   */
  static long outputBytes(String node, String output, long[] shape, int elementBytes) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new TftrtException("engine node '" + node + "' output '" + output + "' has a shape that depends "
            + "on the input values, which the tensorrt backend does not support; use --backend onnxruntime.");
      }
      n = Math.multiplyExact(n, d);
    }
    return Math.multiplyExact(n, (long) elementBytes);
  }

  /** The four stage points of a slot as CUDA events on its stream (created with timing, the default flags). */
  private static final class CudaEvents implements StageTimes.Clock {
    private final CUstream_st stream;
    private final CUevent_st[] events = new CUevent_st[StageTimes.POINTS];

    CudaEvents(CUstream_st stream) {
      this.stream = stream;
      try {
        for (int i = 0; i < events.length; i++) {
          CUevent_st e = new CUevent_st();
          Cuda.check(cudaEventCreate(e), "cudaEventCreate"); // @ByPtrPtr: the event is stored into e
          events[i] = e;
        }
      } catch (RuntimeException ex) {
        close();
        throw ex;
      }
    }

    @Override
    public void mark(int point) {
      Cuda.check(cudaEventRecord(events[point], stream), "cudaEventRecord");
    }

    @Override
    public double elapsedMs(int from, int to) {
      float[] ms = {0};
      Cuda.check(cudaEventElapsedTime(ms, events[from], events[to]), "cudaEventElapsedTime");
      return ms[0];
    }

    @Override
    public void close() {
      for (int i = 0; i < events.length; i++) {
        if (events[i] != null && !events[i].isNull()) cudaEventDestroy(events[i]);
        events[i] = null;
      }
    }
  }

  private static String lastError() {
    String m = TrtEngines.logger().lastError();
    return m == null ? "" : " (TensorRT: " + m.strip() + ")";
  }

  /** The engine's profile per input, in the node's input order. */
  public List<ShapeRange> profile() {
    return List.of(ranges);
  }

  @Override
  public String describe() {
    return "tensorrt";
  }

  @Override
  public void close() {
    List<Slot> free;
    synchronized (this) {
      if (closed) return;
      closed = true;
      free = new ArrayList<>(idle);
      idle.clear();
      all.removeAll(free); // slots in use are freed when their call returns
    }
    for (Slot s : free) {
      s.free();
      loaded.releaseContext(s.context);
    }
  }
}
