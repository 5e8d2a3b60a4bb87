package dev.tftrt.pipeline;

import dev.tftrt.TftrtException;
import dev.tftrt.build.BuildOptions;
import dev.tftrt.build.EngineCache;
import dev.tftrt.build.EngineKey;
import dev.tftrt.build.EngineProvider;
import dev.tftrt.build.GpuDetection;
import dev.tftrt.build.GpuInfo;
import dev.tftrt.build.ListedPlans;
import dev.tftrt.model.ConvertedModel;
import dev.tftrt.model.Payloads;
import dev.tftrt.util.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Pre-builds the TensorRT engine of every engine node of a converted model for the GPU at hand
 * ({@code tftrt build OUTDIR}, {@code convert --build}), into the model's {@code engines/} folder
 * or a cache folder. An engine already cached under its exact key is not rebuilt.
 *
 * <p>Engines are found through the manifest's engine list (name, ONNX file, its SHA-256,
 * precision). Plans built into the folder are listed there too ({@link ListedPlans}: payloads of
 * kind tensorrt-plan, named by their SHA-256, keyed by their {@link EngineKey}); plans built into
 * a cache folder elsewhere ({@code --engine-cache DIR}) are entries of that {@link EngineCache}.
 */
public final class BuildJob {
  /** What to build: the converted model, the cache folder (null: its engines/), the options. */
  public record Options(Path model, Path engineCache, BuildOptions build, boolean progressBar) {}

  /** One engine's outcome: its key, whether it was built (or found cached), where its plan is. */
  public record Engine(String name, EngineKey key, boolean built, String source, Path plan) {}

  private BuildJob() {}

  /** Checks what can be checked without a GPU: the model is a converted one, the cache folder writable by us. */
  public static Path check(Options o) {
    Path dir = o.model();
    if (!Files.isDirectory(dir) || !ConvertedModel.isConverted(dir)) {
      throw new TftrtException(dir + " is not a converted model (no " + ConvertedModel.MANIFEST + " of format "
          + ConvertedModel.FORMAT + "); make one with tftrt convert.");
    }
    Path cache = o.engineCache() != null ? o.engineCache() : dir.resolve("engines");
    if (Files.exists(cache) && !Files.isDirectory(cache)) {
      throw new TftrtException("cannot write engines into " + cache + ": it is a file, not a folder.");
    }
    if (o.engineCache() != null && Files.isDirectory(cache) && !EngineCache.isCacheFolder(cache)) {
      throw new TftrtException("cannot write engines into " + cache + ": it is a folder of files tftrt did not write; "
          + "name a new or empty folder, or an engine cache.");
    }
    return cache;
  }

  /** Builds on the detected GPU; one sentence (exit 2) where TensorRT cannot run. */
  public static List<Engine> run(Options o) {
    Path cache = check(o);
    GpuInfo gpu = GpuDetection.detect();
    if (!gpu.usable()) throw new TftrtException("cannot build TensorRT engines: " + gpu.problem());
    boolean inFolder = intoFolder(o, cache);
    Path user = BuildOptions.defaultEngineCacheDir();
    // Into the folder: plans are listed in its manifest; the build's cache entry (with the
    // inspector's JSON) goes to the user cache, and an older engines/ folder is still searched.
    // Elsewhere: the named cache, then the user cache, where engines built at run time are.
    List<EngineCache> caches = new ArrayList<>();
    caches.add(new EngineCache(inFolder ? user : cache));
    if (!caches.get(0).root().equals(inFolder ? cache : user)) caches.add(new EngineCache(inFolder ? cache : user));
    EngineProvider provider = EngineProvider.onGpu(gpu, o.build(), caches,
        inFolder ? ListedPlans.of(o.model()) : null, o.progressBar());
    return run(o, provider, inFolder);
  }

  /** Whether the engines go into the converted folder itself (no --engine-cache outside it). */
  static boolean intoFolder(Options o, Path cache) {
    return cache.toAbsolutePath().normalize().startsWith(o.model().toAbsolutePath().normalize());
  }

  /**
   * Provides every engine's plan; with {@code inFolder}, lists each plan in the folder's
   * manifest (payloads/SHA256.plan, its key as the payload's key) and seals the folder again, so
   * that it stays provably tftrt's (and replaceable).
   */
  static List<Engine> run(Options o, EngineProvider provider, boolean inFolder) {
    if (!inFolder) return provide(o, provider, false);
    List<List<Engine>> built = new ArrayList<>();
    try {
      dev.tftrt.util.FolderSeal.update(o.model(), d -> built.add(provide(o, provider, true)));
    } catch (java.io.IOException e) {
      throw new TftrtException("cannot seal " + o.model() + " again after adding its engines: "
          + dev.tftrt.util.AtomicFiles.reason(e) + ".", e);
    }
    return built.get(0);
  }

  private static List<Engine> provide(Options o, EngineProvider provider, boolean list) {
    Path dir = o.model();
    ConvertedModel.Manifest m = ConvertedModel.readManifest(dir);
    List<String> names = new ArrayList<>();
    List<EngineProvider.Request> requests = new ArrayList<>();
    for (ConvertedModel.Engine e : m.engines()) {
      var payload = Payloads.find(m, e.name(), Payloads.ONNX).orElseThrow(() -> new TftrtException("engine "
          + e.name() + " of " + dir + " has no ONNX payload to build a TensorRT engine from; convert the model again."));
      byte[] onnx = Payloads.read(dir, e.name(), payload); // contained, and checked against its SHA-256
      requests.add(new EngineProvider.Request(e.name(), onnx, payload.precision() == null ? "fp32" : payload.precision(), Map.of()));
      names.add(e.name());
    }
    // Every profile first, so a missing --shape-range is said before minutes of building.
    List<String> inputs = new ArrayList<>();
    for (EngineProvider.Request r : requests) {
      provider.profile(r);
      for (var in : dev.tftrt.build.OnnxInputs.inputs(r.name(), r.onnx())) inputs.add(in.name());
    }
    // A batch-only range may name a model input (it carries to the engines' batch); any other
    // range must name an engine input, so that a typo is said rather than ignored.
    for (String n : o.build().shapeRanges().unmatched(inputs)) {
      var g = o.build().shapeRanges().given().stream().filter(r -> r.name().equals(n)).findFirst().orElseThrow();
      int[] v = g.varying();
      if (v.length == 1 && v[0] == 0) continue;
      throw new TftrtException("--shape-range names '" + n + "', which is no input of any engine of " + dir
          + "; tftrt inspect " + dir + " lists them (a range for a model input may vary only the batch).");
    }
    List<Engine> out = new ArrayList<>();
    ListedPlans listed = list ? ListedPlans.of(dir) : null;
    EngineCache into = list ? null : new EngineCache(check(o));
    for (EngineProvider.Request r : requests) {
      EngineProvider.Provided p = provider.provide(r, true);
      Path plan;
      if (listed == null) {
        plan = into.planFile(p.key());
      } else if (p.source().startsWith(ListedPlans.SOURCE)) {
        plan = dir.resolve(Payloads.list(ConvertedModel.readManifest(dir), r.name()).stream()
            .filter(q -> q.kind().equals(Payloads.TENSORRT_PLAN) && p.key().asMap().equals(q.key()))
            .map(ConvertedModel.Payload::file).findFirst().orElseThrow());
      } else {
        plan = dir.resolve(listed.list(r.name(), p.key(), p.plan()).file());
      }
      out.add(new Engine(r.name(), p.key(), p.built(), p.source(), plan));
    }
    return out;
  }
}
