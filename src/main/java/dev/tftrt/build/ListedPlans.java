package dev.tftrt.build;

import dev.tftrt.TftrtException;
import dev.tftrt.model.ConvertedModel;
import dev.tftrt.model.Payloads;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * TensorRT plans listed in a converted folder's manifest: payloads of kind {@value
 * Payloads#TENSORRT_PLAN}, stored as {@code payloads/SHA256.plan} like every payload, each with its
 * {@link EngineKey} as the payload's key. {@code tftrt build OUTDIR} and {@code convert --build}
 * list what they build; the {@code tensorrt} backend loads a listed plan when its key is the one
 * this GPU, TensorRT and these options need, before any engine cache. A listed plan is read only
 * after its SHA-256 matches the manifest ({@link Payloads#read}); one that does not is reported as
 * corrupt (and rebuilt by the provider), never handed to TensorRT.
 */
public final class ListedPlans {
  /** How {@link EngineProvider.Provided#source} names a listed plan. */
  public static final String SOURCE = "listed in ";

  private final Path dir;

  private ListedPlans(Path dir) {
    this.dir = dir;
  }

  /** The plans of the converted folder {@code dir}; null when dir is null or no converted model. */
  public static ListedPlans of(Path dir) {
    return dir != null && ConvertedModel.isConverted(dir) ? new ListedPlans(dir) : null;
  }

  public Path dir() {
    return dir;
  }

  /** The manifest key of a plan built under {@code key}: the key's parts as strings. */
  public static Map<String, Object> keyMap(EngineKey key) {
    return new LinkedHashMap<>(key.asMap());
  }

  /** The EngineKey a listed plan names; null when its key is not a complete one. */
  static EngineKey keyOf(ConvertedModel.Payload p) {
    if (p.key() == null) return null;
    Map<String, String> m = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : p.key().entrySet()) m.put(e.getKey(), String.valueOf(e.getValue()));
    try {
      return EngineKey.fromMap(m);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The engine's listed plans with a complete key. */
  static List<Map.Entry<EngineKey, ConvertedModel.Payload>> plans(ConvertedModel.Manifest m, String engine) {
    List<Map.Entry<EngineKey, ConvertedModel.Payload>> r = new ArrayList<>();
    for (ConvertedModel.Payload p : Payloads.list(m, engine)) {
      if (!p.kind().equals(Payloads.TENSORRT_PLAN)) continue;
      EngineKey k = keyOf(p);
      if (k != null) r.add(Map.entry(k, p));
    }
    return r;
  }

  /**
   * The plan listed for {@code engine} under exactly {@code key}: a {@link EngineCache.Hit}, a
   * {@link EngineCache.Corrupt} when its file is not what the manifest's SHA-256 names, else a
   * {@link EngineCache.Miss} saying how the nearest listed plan's key differs.
   */
  public EngineCache.Lookup lookup(String engine, EngineKey key) {
    ConvertedModel.Manifest m = ConvertedModel.readManifest(dir);
    List<Map.Entry<EngineKey, ConvertedModel.Payload>> listed = plans(m, engine);
    for (Map.Entry<EngineKey, ConvertedModel.Payload> e : listed) {
      if (e.getKey().equals(key)) return read(engine, e.getValue());
    }
    EngineKey best = null;
    for (Map.Entry<EngineKey, ConvertedModel.Payload> e : listed) {
      if (best == null || e.getKey().distance(key) < best.distance(key)) best = e.getKey();
    }
    Path manifest = dir.resolve(ConvertedModel.MANIFEST);
    if (best == null) return new EngineCache.Miss("no plan is listed for it in " + manifest);
    return new EngineCache.Miss("the plan listed for it in " + manifest + " differs in " + best.differences(key));
  }

  /**
   * A listed plan whose key equals {@code key} in every part but the shape profile (the profile
   * the folder's engines were built with, when the run names none), checked like {@link #lookup};
   * null when there is none. The same choice every time: the lowest key id first.
   */
  public EngineCache.Hit lookupAnyProfile(String engine, EngineKey key) {
    ConvertedModel.Manifest m = ConvertedModel.readManifest(dir);
    List<Map.Entry<EngineKey, ConvertedModel.Payload>> listed = new ArrayList<>();
    for (Map.Entry<EngineKey, ConvertedModel.Payload> e : plans(m, engine)) {
      EngineKey k = e.getKey();
      if (k.equals(new EngineKey(key.segmentSha256(), key.precision(), key.tensorRtVersion(), key.gpuTarget(),
          k.profile(), key.options()))) {
        listed.add(e);
      }
    }
    listed.sort(Comparator.comparing(e -> e.getKey().id()));
    for (Map.Entry<EngineKey, ConvertedModel.Payload> e : listed) {
      if (read(engine, e.getValue()) instanceof EngineCache.Hit h) return h;
    }
    return null;
  }

  private EngineCache.Lookup read(String engine, ConvertedModel.Payload p) {
    try {
      return new EngineCache.Hit(Payloads.read(dir, engine, p), dir.resolve(p.file()));
    } catch (TftrtException e) {
      String why = e.getMessage().endsWith(".") ? e.getMessage().substring(0, e.getMessage().length() - 1) : e.getMessage();
      return new EngineCache.Corrupt("the plan " + p.file() + " listed in " + dir.resolve(ConvertedModel.MANIFEST)
          + " was refused (" + why + ")");
    }
  }

  /**
   * Lists {@code plan} for {@code engine} under {@code key} (the file and the new manifest
   * written together, or neither): a plan listed under the same key is replaced. The caller seals
   * the folder again ({@link dev.tftrt.util.FolderSeal#update}).
   */
  public ConvertedModel.Payload list(String engine, EngineKey key, byte[] plan) {
    return Payloads.add(dir, engine, Payloads.TENSORRT_PLAN, plan, key.precision(), keyMap(key));
  }
}
