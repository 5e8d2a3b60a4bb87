package dev.tftrt.build;

import dev.tftrt.TftrtException;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Logger;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.global.nvinfer.BuilderFlag;
import org.bytedeco.tensorrt.global.nvinfer.HardwareCompatibilityLevel;
import org.bytedeco.tensorrt.global.nvinfer.MemoryPoolType;
import org.bytedeco.tensorrt.global.nvinfer.OptProfileSelector;
import org.bytedeco.tensorrt.global.nvinfer.ProfilingVerbosity;
import org.bytedeco.tensorrt.global.nvonnxparser;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.IHostMemory;
import org.bytedeco.tensorrt.nvinfer.INetworkDefinition;
import org.bytedeco.tensorrt.nvinfer.IOptimizationProfile;
import org.bytedeco.tensorrt.nvinfer.ITensor;
import org.bytedeco.tensorrt.nvinfer.ITimingCache;
import org.bytedeco.tensorrt.nvonnxparser.IParser;
import org.bytedeco.tensorrt.nvonnxparser.IParserError;

/**
 * Builds one segment's ONNX into a serialized TensorRT engine (GPU only): the ONNX parser, a
 * strongly typed network (the only kind TensorRT 11 has: the precision is whatever the ONNX
 * declares), a builder config from {@link BuildConfigPlan}, and the persistent timing cache.
 *
 * <p>Preset rules followed here (TENSORRT.md): network creation flags 0 (the TensorRT 10 masks
 * mean other things in 11); every factory result checked for null; enums from native code
 * {@code intern()}ed; the logger, the ONNX bytes and the timing cache kept reachable until the
 * build returns; nothing "closed" that TensorRT returned (close frees nothing there). The
 * builder, network, config and parser of a build therefore stay allocated for the process: a
 * few MB of host memory per build, which is why builds are few (cached) and `tftrt build` runs
 * in its own process.
 */
public final class EngineBuilder {
  private static final Logger LOG = Logger.getLogger(EngineBuilder.class.getName());

  /** A built engine: the plan and the inspector's JSON (may be null). */
  public record Built(byte[] plan, String layersJson, long millis) {}

  /** Dims64::MAX_DIMS (the preset fills its field natively: a literal keeps this class loadable). */
  static final int MAX_DIMS = 8;

  private EngineBuilder() {}

  /**
   * Builds {@code onnx} (the ONNX of engine {@code name}) with {@code profile} (one range per
   * input with an unknown dimension, see {@link ShapeRanges}). {@code progress} receives
   * TensorRT's log messages (may be null). Throws {@link TftrtException} for what the model or
   * options cause (parser errors with node name and op, an invalid profile), IllegalStateException
   * for TensorRT failures.
   */
  public static Built build(String name, byte[] onnx, List<ShapeRange> profile, BuildOptions options,
      GpuInfo gpu, Consumer<String> progress) {
    BuildConfigPlan plan = BuildConfigPlan.of(options, profile, gpu);
    long start = System.nanoTime();
    TrtLogger logger = TrtEngines.logger();
    logger.listener(progress);
    BytePointer model = new BytePointer(onnx);
    BytePointer timingBlob = null;
    TimingCache timing = TimingCache.forDevice(options.timingCacheDir(), gpu);
    try {
      IBuilder builder = nvinfer.createInferBuilder(logger);
      notNull(builder, "createInferBuilder");
      INetworkDefinition network = builder.createNetworkV2(0); // strongly typed, always, in TRT 11
      notNull(network, "createNetworkV2");
      IParser parser = nvonnxparser.createParser(network, logger);
      notNull(parser, "createParser");
      if (!parser.parse(model, onnx.length)) throw parseFailure(name, parser);

      IBuilderConfig config = builder.createBuilderConfig();
      notNull(config, "createBuilderConfig");
      if (plan.workspaceBytes() > 0) config.setMemoryPoolLimit(MemoryPoolType.kWORKSPACE, plan.workspaceBytes());
      config.setBuilderOptimizationLevel(plan.optimizationLevel());
      config.setProfilingVerbosity(ProfilingVerbosity.kDETAILED);
      config.setHardwareCompatibilityLevel(hardwareLevel(plan.hardwareCompat()));
      for (String flag : plan.flags()) config.setFlag(BuilderFlag.valueOf(flag));

      List<ShapeRange> needed = new ArrayList<>();
      for (int i = 0; i < network.getNbInputs(); i++) {
        ITensor t = network.getInput(i);
        String in = t.getName();
        long[] dims = dims(t.getDimensions());
        ShapeRange r = find(profile, in);
        boolean dynamic = !ShapeRanges.known(dims);
        if (r == null && dynamic) {
          throw new TftrtException("engine " + name + " input '" + in + "' has the shape "
              + ShapeRanges.describe(dims) + " in TensorRT's network, with dimensions known only at run time; "
              + "give --shape-range " + in + "=min:opt:max for it.");
        }
        if (r != null && !r.fits(dims)) {
          throw new TftrtException("--shape-range " + r.canonical() + " does not fit engine " + name
              + " input '" + in + "', whose shape in TensorRT's network is " + ShapeRanges.describe(dims) + ".");
        }
        if (r != null) needed.add(r);
      }
      if (!needed.isEmpty()) {
        IOptimizationProfile p = builder.createOptimizationProfile();
        notNull(p, "createOptimizationProfile");
        for (ShapeRange r : needed) {
          boolean ok = p.setDimensions(r.name(), OptProfileSelector.kMIN, dims64(r.min()))
              && p.setDimensions(r.name(), OptProfileSelector.kOPT, dims64(r.opt()))
              && p.setDimensions(r.name(), OptProfileSelector.kMAX, dims64(r.max()));
          if (!ok) throw new TftrtException("TensorRT refuses the shape range " + r.canonical() + " of engine " + name + ".");
        }
        if (!p.isValid() || config.addOptimizationProfile(p) < 0) {
          throw new TftrtException("TensorRT refuses the optimisation profile " + EngineKey.profileText(needed)
              + " of engine " + name + TrtEngines.lastError() + ".");
        }
      }

      byte[] cached = timing.read();
      timingBlob = cached.length == 0 ? null : new BytePointer(cached);
      ITimingCache tc = config.createTimingCache(timingBlob == null ? new Pointer() : timingBlob, cached.length);
      if ((tc == null || tc.isNull()) && cached.length > 0) {
        LOG.warning(() -> "timing cache " + timing.file() + " is not usable; starting an empty one");
        tc = config.createTimingCache(new Pointer(), 0);
      }
      notNull(tc, "createTimingCache");
      if (!config.setTimingCache(tc, false)) {
        // a cache of another device or TensorRT version: start afresh rather than mix timings
        LOG.warning(() -> "timing cache " + timing.file() + " was written for another device; starting an empty one");
        tc = config.createTimingCache(new Pointer(), 0);
        notNull(tc, "createTimingCache");
        if (!config.setTimingCache(tc, false)) throw new IllegalStateException("TensorRT refuses an empty timing cache");
      }

      IHostMemory serialized = builder.buildSerializedNetwork(network, config);
      if (serialized == null || serialized.isNull() || serialized.size() == 0) {
        throw new IllegalStateException("TensorRT could not build engine " + name + TrtEngines.lastError());
      }
      byte[] bytes = copy(serialized, "the engine plan");
      IHostMemory timings = tc.serialize();
      if (timings != null && !timings.isNull()) timing.write(copy(timings, "the timing cache"));
      String layers = TrtEngines.load(bytes, options.versionCompatible()).inspectorJson();
      Reference.reachabilityFence(parser); // the parser owns the imported weights until the build ends
      return new Built(bytes, layers, (System.nanoTime() - start) / 1_000_000);
    } finally {
      logger.listener(null);
      Reference.reachabilityFence(logger);
      model.close();
      if (timingBlob != null) timingBlob.close();
    }
  }

  private static int hardwareLevel(HardwareCompat h) {
    return switch (h) {
      case NONE -> HardwareCompatibilityLevel.kNONE.value;
      case AMPERE_PLUS -> HardwareCompatibilityLevel.kAMPERE_PLUS.value;
      case SAME_COMPUTE_CAPABILITY -> HardwareCompatibilityLevel.kSAME_COMPUTE_CAPABILITY.value;
    };
  }

  private static TftrtException parseFailure(String name, IParser parser) {
    List<String> errs = new ArrayList<>();
    int n = parser.getNbErrors();
    for (int i = 0; i < n && i < 10; i++) {
      IParserError e = parser.getError(i);
      if (e == null || e.isNull()) continue;
      String node = e.nodeName(), op = e.nodeOperator();
      String code = e.code() == null ? "?" : e.code().intern().toString();
      errs.add((node == null || node.isEmpty() ? "node #" + e.node() : "node '" + node + "'")
          + (op == null || op.isEmpty() ? "" : " (" + op + ")") + ": " + clean(e.desc()) + " [" + code + "]");
    }
    if (errs.isEmpty()) errs.add("no details given" + TrtEngines.lastError());
    return new TftrtException("TensorRT's ONNX parser rejects engine " + name + ": " + String.join("; ", errs)
        + (n > 10 ? "; and " + (n - 10) + " more" : "") + ".");
  }

  private static String clean(String s) {
    if (s == null) return "";
    String t = s.strip().replace('\n', ' ');
    return t.endsWith(".") ? t.substring(0, t.length() - 1) : t;
  }

  private static ShapeRange find(List<ShapeRange> profile, String name) {
    for (ShapeRange r : profile) if (r.name().equals(name)) return r;
    return null;
  }

  static long[] dims(Dims64 d) {
    long[] r = new long[Math.max(0, d.nbDims())];
    for (int i = 0; i < r.length; i++) r[i] = d.d(i);
    return r;
  }

  public static Dims64 dims64(long[] shape) {
    if (shape.length > MAX_DIMS) throw new TftrtException("TensorRT takes at most " + MAX_DIMS + " dimensions, not " + shape.length + ".");
    Dims64 d = new Dims64();
    d.nbDims(shape.length);
    for (int i = 0; i < shape.length; i++) d.d(i, shape[i]);
    return d;
  }

  /** Copies TensorRT host memory into a Java array (data()'s Pointer has capacity 0: set it). */
  static byte[] copy(IHostMemory m, String what) {
    long size = m.size();
    if (size > Integer.MAX_VALUE - 8) throw new IllegalStateException(what + " is over 2 GB");
    byte[] b = new byte[(int) size];
    new BytePointer(m.data()).capacity(size).limit(size).get(b);
    return b;
  }

  private static void notNull(Pointer p, String call) {
    if (p == null || p.isNull()) throw new IllegalStateException("TensorRT's " + call + " failed" + TrtEngines.lastError());
  }
}
