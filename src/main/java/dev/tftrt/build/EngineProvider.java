package dev.tftrt.build;

import dev.tftrt.TftrtException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Where an engine's plan comes from: an engine cache that holds it under the exact key, or a
 * build (stored into the first cache), or, when building is not allowed, one sentence saying
 * which part of the key differs from what is cached. A corrupt cached plan is removed by the
 * cache and rebuilt here; it is never deserialized.
 */
public final class EngineProvider {
  private static final Logger LOG = Logger.getLogger(EngineProvider.class.getName());

  /** What to provide: an engine's name, its ONNX, precision and shapes seen in a run (may be empty). */
  public record Request(String name, byte[] onnx, String precision, Map<String, long[]> observed) {}

  /** A plan, its key, and where it came from ("cache DIR", "built in 12.3 s"). */
  public record Provided(byte[] plan, EngineKey key, String source, boolean built, String layersJson) {}

  /** Builds one engine; {@link EngineBuilder#build} on a GPU, a fake in tests. */
  @FunctionalInterface
  public interface Build {
    EngineBuilder.Built build(String name, byte[] onnx, List<ShapeRange> profile, BuildOptions options,
        GpuInfo gpu, Consumer<String> progress);
  }

  private final GpuInfo gpu;
  private final BuildOptions options;
  private final List<EngineCache> caches;
  private final ListedPlans listed; // the model's own plans, searched first; may be null
  private final Build build;
  private final java.util.function.Function<String, BuildProgress> progress;

  /**
   * @param caches where to look, in order; built plans are stored into the first
   * @param progress a progress bar per build (by engine name), or null for none
   */
  public EngineProvider(GpuInfo gpu, BuildOptions options, List<EngineCache> caches, Build build,
      java.util.function.Function<String, BuildProgress> progress) {
    this(gpu, options, caches, null, build, progress);
  }

  /**
   * @param listed the plans a converted model's manifest lists, searched before every cache
   *     (null: none); builds are never written there, but into the first cache
   */
  public EngineProvider(GpuInfo gpu, BuildOptions options, List<EngineCache> caches, ListedPlans listed, Build build,
      java.util.function.Function<String, BuildProgress> progress) {
    if (caches.isEmpty()) throw new IllegalArgumentException("at least one engine cache is needed");
    this.gpu = gpu;
    this.options = options;
    this.caches = List.copyOf(caches);
    this.listed = listed;
    this.build = build;
    this.progress = progress;
  }

  /** The real builder, with a console progress bar on stderr per build. */
  public static EngineProvider onGpu(GpuInfo gpu, BuildOptions options, List<EngineCache> caches, boolean bar) {
    return onGpu(gpu, options, caches, null, bar);
  }

  /** As {@link #onGpu(GpuInfo, BuildOptions, List, boolean)}, searching a model's listed plans first. */
  public static EngineProvider onGpu(GpuInfo gpu, BuildOptions options, List<EngineCache> caches, ListedPlans listed,
      boolean bar) {
    return new EngineProvider(gpu, options, caches, listed, EngineBuilder::build,
        bar ? name -> BuildProgress.console("building " + name, System.err) : null);
  }

  public BuildOptions options() {
    return options;
  }

  /** The optimisation profile of a request (see {@link ShapeRanges#profile}). */
  public List<ShapeRange> profile(Request r) {
    return options.shapeRanges().profile(r.name(), OnnxInputs.inputs(r.name(), r.onnx()), r.observed());
  }

  public EngineKey key(Request r) {
    return EngineKey.of(r.onnx(), r.precision(), gpu, profile(r), options);
  }

  /**
   * A cached plan for {@code r} without building: under its exact key when its profile can be
   * told now, else (no --shape-range given, so any profile will do: the engine checks each
   * call's shapes against its own) one that differs only in the profile. Null when none.
   */
  public Provided cached(Request r) {
    List<ShapeRange> profile;
    try {
      profile = profile(r);
    } catch (TftrtException unknownDims) {
      profile = null;
    }
    EngineKey key = EngineKey.of(r.onnx(), r.precision(), gpu, profile == null ? List.of() : profile, options);
    if (listed != null && profile != null && listed.lookup(r.name(), key) instanceof EngineCache.Hit h) {
      return new Provided(h.plan(), key, listedSource(), false, null);
    }
    for (EngineCache c : caches) {
      if (profile != null && c.lookup(key) instanceof EngineCache.Hit h) {
        return new Provided(h.plan(), key, "cache " + c.root(), false, null);
      }
    }
    if (!options.shapeRanges().isEmpty()) return null;
    if (listed != null) {
      EngineCache.Hit h = listed.lookupAnyProfile(r.name(), key);
      if (h != null) return new Provided(h.plan(), key, listedSource(), false, null);
    }
    for (EngineCache c : caches) {
      EngineCache.Hit h = c.lookupAnyProfile(key);
      if (h != null) return new Provided(h.plan(), key, "cache " + c.root(), false, null);
    }
    return null;
  }

  /** Whether {@code r}'s profile can be told before it runs (no dimension known only at run time). */
  public boolean profileKnown(Request r) {
    try {
      profile(r);
      return true;
    } catch (TftrtException e) {
      return false;
    }
  }

  private String listedSource() {
    return ListedPlans.SOURCE + listed.dir().resolve(dev.tftrt.model.ConvertedModel.MANIFEST);
  }

  /** The plan for {@code r}: listed or cached, else built when {@code allowBuild}, else one sentence why not. */
  public Provided provide(Request r, boolean allowBuild) {
    List<ShapeRange> profile = profile(r);
    EngineKey key = EngineKey.of(r.onnx(), r.precision(), gpu, profile, options);
    List<String> why = new ArrayList<>();
    if (listed != null) {
      EngineCache.Lookup l = listed.lookup(r.name(), key);
      if (l instanceof EngineCache.Hit h) return new Provided(h.plan(), key, listedSource(), false, null);
      if (l instanceof EngineCache.Corrupt k) why.add(k.why());
      if (l instanceof EngineCache.Miss m) why.add(m.why());
    }
    for (EngineCache c : caches) {
      EngineCache.Lookup l = c.lookup(key);
      if (l instanceof EngineCache.Hit h) {
        // found in a later cache: the first, where builds go, gets a copy
        if (c != caches.get(0)) caches.get(0).store(key, r.name(), h.plan(), null);
        return new Provided(h.plan(), key, "cache " + c.root(), false, null);
      }
      if (l instanceof EngineCache.Corrupt k) why.add("the cached plan was corrupt (" + k.why() + ")");
      if (l instanceof EngineCache.Miss m) why.add(m.why());
    }
    if (!allowBuild) {
      throw new TftrtException("engine " + r.name() + " has no TensorRT engine for " + gpu.describe() + ": "
          + String.join("; ", why) + "; build it with tftrt build, or allow building at run time.");
    }
    LOG.info(() -> "engine " + r.name() + ": building a TensorRT engine (" + String.join("; ", why) + ")");
    BuildProgress bar = progress == null ? null : progress.apply(r.name());
    EngineBuilder.Built b;
    try {
      // 8-bit weights TensorRT refuses become floats for the build (see TrtWeights)
      b = build.build(r.name(), TrtWeights.forTensorRt(r.onnx()), profile, options, gpu, bar == null ? null : bar::message);
      if (bar != null) bar.done();
    } finally {
      if (bar != null) bar.close();
    }
    caches.get(0).store(key, r.name(), b.plan(), b.layersJson());
    return new Provided(b.plan(), key, String.format(java.util.Locale.ROOT, "built in %.1f s", b.millis() / 1e3),
        true, b.layersJson());
  }
}
