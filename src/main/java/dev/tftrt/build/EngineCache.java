package dev.tftrt.build;

import dev.tftrt.util.Sha256;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tftrt.TftrtException;
import dev.tftrt.util.AtomicFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;

/**
 * TensorRT plans stored in a directory, keyed by {@link EngineKey}: the converted folder's
 * {@code engines/} or a user cache ({@code --engine-cache DIR}). One entry is three files named
 * by the key's {@link EngineKey#id}:
 *
 * <ul>
 *   <li>{@code ID.plan}: the serialized engine;
 *   <li>{@code ID.json}: the sidecar: format {@value #FORMAT}, the key's parts, the plan's
 *       SHA-256 and size, and the segment's name;
 *   <li>{@code ID.layers.json}: the engine inspector's JSON (TensorRT 11 schema), when built with
 *       detailed profiling verbosity.
 * </ul>
 *
 * <p>A plan is read only after its SHA-256 matches the sidecar; one that does not is removed
 * and reported as {@link Lookup.Corrupt}, never handed to TensorRT (deserializing a damaged plan
 * is undefined behaviour in native code). The seam to the converted format's manifest: the
 * manifest lists, per engine, the entry id and plan SHA-256 ({@link Stored}); the files stay here.
 */
public final class EngineCache {
  public static final String FORMAT = "tftrt-engine";
  private static final Logger LOG = Logger.getLogger(EngineCache.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Path root;

  public EngineCache(Path root) {
    this.root = root;
  }

  public Path root() {
    return root;
  }

  /** What a lookup found. */
  public sealed interface Lookup {}

  /** A plan whose checksum matched. */
  public record Hit(byte[] plan, Path file) implements Lookup {}

  /** No entry for the key; {@code why} names the nearest entry's differing parts, if any. */
  public record Miss(String why) implements Lookup {}

  /** An entry whose plan failed its checksum (or whose sidecar is unreadable); it was removed. */
  public record Corrupt(String why) implements Lookup {}

  /** What {@link #store} wrote: the entry id and the plan's SHA-256, for a manifest to list. */
  public record Stored(String id, String planSha256, Path plan, Path sidecar) {}

  /** Whether {@code dir} holds only what an engine cache holds (entries, timing caches, temporaries). */
  public static boolean isCacheFolder(Path dir) {
    try (java.util.stream.Stream<Path> s = Files.list(dir)) {
      return s.allMatch(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
          && p.getFileName().toString().matches("([0-9a-f]{32}\\.(plan|json|layers\\.json)|timing-.*\\.cache|\\..*\\.tftrt-.*)"));
    } catch (IOException e) {
      return false;
    }
  }

  public Path planFile(EngineKey key) {
    return root.resolve(key.id() + ".plan");
  }

  public Path sidecarFile(EngineKey key) {
    return root.resolve(key.id() + ".json");
  }

  public Path layersFile(EngineKey key) {
    return root.resolve(key.id() + ".layers.json");
  }

  public Lookup lookup(EngineKey key) {
    Path sidecar = sidecarFile(key), plan = planFile(key);
    if (!Files.isRegularFile(sidecar) || !Files.isRegularFile(plan)) return new Miss(nearest(key));
    Map<String, Object> meta;
    try {
      meta = JSON.readValue(sidecar.toFile(), new TypeReference<Map<String, Object>>() {});
    } catch (IOException e) {
      return corrupt(key, "its sidecar " + sidecar + " is not readable JSON");
    }
    Object sum = meta.get("sha256");
    EngineKey stored;
    try {
      stored = EngineKey.fromMap(stringMap(meta.get("key")));
    } catch (RuntimeException e) {
      return corrupt(key, "its sidecar " + sidecar + " holds no complete key");
    }
    if (!FORMAT.equals(meta.get("format")) || !(sum instanceof String) || !stored.equals(key)) {
      return corrupt(key, "its sidecar " + sidecar + " does not describe this engine");
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(plan);
    } catch (IOException e) {
      return new Miss("the cached plan " + plan + " cannot be read (" + AtomicFiles.reason(e) + ")");
    }
    String actual = Sha256.hex(bytes);
    if (!actual.equals(sum)) {
      return corrupt(key, "the plan " + plan + " has SHA-256 " + actual + " but its sidecar says " + sum);
    }
    return new Hit(bytes, plan);
  }

  /**
   * An entry whose key equals {@code key} in every part but the shape profile (the profile a
   * model was built with, when the run gives no ranges): its plan checked like {@link #lookup},
   * or null when there is none.
   */
  public Hit lookupAnyProfile(EngineKey key) {
    if (!Files.isDirectory(root)) return null;
    List<EngineKey> candidates = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "*.json")) {
      for (Path p : ds) {
        if (p.getFileName().toString().endsWith(".layers.json")) continue;
        EngineKey k = readKey(p);
        if (k != null && k.equals(new EngineKey(key.segmentSha256(), key.precision(), key.tensorRtVersion(),
            key.gpuTarget(), k.profile(), key.options()))) {
          candidates.add(k);
        }
      }
    } catch (IOException e) {
      return null;
    }
    candidates.sort(java.util.Comparator.comparing(EngineKey::id)); // the same choice every time
    for (EngineKey k : candidates) {
      if (lookup(k) instanceof Hit h) return h;
    }
    return null;
  }

  private Corrupt corrupt(EngineKey key, String why) {
    for (Path p : new Path[] {planFile(key), sidecarFile(key), layersFile(key)}) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException e) {
        // left in place: the next lookup finds it corrupt again and says so
      }
    }
    LOG.warning(() -> "engine cache " + root + ": entry " + key.id() + " was corrupt (" + why + "); removed");
    return new Corrupt(why);
  }

  /** Why there is no entry: the closest entry's differing parts, or that none exists for the segment. */
  private String nearest(EngineKey key) {
    EngineKey best = null;
    if (Files.isDirectory(root)) {
      try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "*.json")) {
        for (Path p : ds) {
          if (p.getFileName().toString().endsWith(".layers.json")) continue;
          EngineKey k = readKey(p);
          if (k == null || !k.segmentSha256().equals(key.segmentSha256())) continue;
          if (best == null || k.distance(key) < best.distance(key)) best = k;
        }
      } catch (IOException e) {
        return "the engine cache " + root + " cannot be listed (" + AtomicFiles.reason(e) + ")";
      }
    }
    if (best == null) {
      return "no engine is cached in " + root + " for this segment (ONNX SHA-256 " + key.segmentSha256() + ")";
    }
    return "the engine cached in " + root + " for this segment differs in " + best.differences(key);
  }

  private static EngineKey readKey(Path sidecar) {
    try {
      Map<String, Object> meta = JSON.readValue(sidecar.toFile(), new TypeReference<Map<String, Object>>() {});
      if (!FORMAT.equals(meta.get("format"))) return null;
      return EngineKey.fromMap(stringMap(meta.get("key")));
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static Map<String, String> stringMap(Object o) {
    if (!(o instanceof Map<?, ?> m)) throw new IllegalArgumentException("not a map");
    Map<String, String> r = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : m.entrySet()) r.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
    return r;
  }

  /**
   * Stores a plan (and the inspector's JSON, when not null) under {@code key}, all files or none
   * ({@link AtomicFiles}); creates the directory when missing.
   */
  public Stored store(EngineKey key, String segmentName, byte[] plan, String layersJson) {
    try {
      Files.createDirectories(root);
    } catch (IOException e) {
      throw new TftrtException("cannot create the engine cache folder " + root + ": " + AtomicFiles.reason(e) + ".");
    }
    String sum = Sha256.hex(plan);
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("format", FORMAT);
    meta.put("version", 1);
    meta.put("segment", segmentName);
    meta.put("key", key.asMap());
    meta.put("sha256", sum);
    meta.put("bytes", plan.length);
    byte[] sidecar;
    try {
      sidecar = JSON.writeValueAsBytes(meta);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    Map<Path, AtomicFiles.Writer> files = new LinkedHashMap<>();
    files.put(planFile(key), out -> out.write(plan));
    files.put(sidecarFile(key), out -> out.write(sidecar));
    if (layersJson != null) {
      byte[] layers = layersJson.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      files.put(layersFile(key), out -> out.write(layers));
    }
    AtomicFiles.write(files);
    return new Stored(key.id(), sum, planFile(key), sidecarFile(key));
  }
}
