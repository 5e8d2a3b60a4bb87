package dev.tftrt.build;

import dev.tftrt.util.Sha256;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything that makes a TensorRT plan valid for a use: the segment (SHA-256 of its ONNX), its
 * precision, the TensorRT version, the GPU target (the exact device, or the compatibility level
 * that widens it, see {@link HardwareCompat#target}), the shape profile and the build options.
 * Two keys are equal exactly when a plan built for one may serve the other.
 */
public record EngineKey(String segmentSha256, String precision, String tensorRtVersion,
    String gpuTarget, String profile, String options) {

  /** The parts in the order they are shown, with the names messages use. */
  private static final String[] PART_NAMES = {"segment (SHA-256 of its ONNX)", "precision",
      "TensorRT version", "GPU", "shape profile", "build options"};

  public EngineKey {
    Objects.requireNonNull(segmentSha256);
    Objects.requireNonNull(precision);
    Objects.requireNonNull(tensorRtVersion);
    Objects.requireNonNull(gpuTarget);
    Objects.requireNonNull(profile);
    Objects.requireNonNull(options);
  }

  /** The key of {@code onnx} built with {@code options} for {@code gpu} and this profile. */
  public static EngineKey of(byte[] onnx, String precision, GpuInfo gpu, List<ShapeRange> profile,
      BuildOptions options) {
    String trt = options.versionCompatible()
        ? "version-compatible from " + gpu.tensorRtVersion() : gpu.tensorRtVersion();
    return new EngineKey(Sha256.hex(onnx), precision, trt, options.hardwareCompat().target(gpu),
        profileText(profile), options.keyText());
  }

  static String profileText(List<ShapeRange> profile) {
    List<String> parts = new ArrayList<>();
    for (ShapeRange r : profile) parts.add(r.canonical());
    return String.join(";", parts);
  }

  public Map<String, String> asMap() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("segment", segmentSha256);
    m.put("precision", precision);
    m.put("tensorrt", tensorRtVersion);
    m.put("gpu", gpuTarget);
    m.put("profile", profile);
    m.put("options", options);
    return m;
  }

  public static EngineKey fromMap(Map<String, String> m) {
    return new EngineKey(req(m, "segment"), req(m, "precision"), req(m, "tensorrt"), req(m, "gpu"),
        req(m, "profile"), req(m, "options"));
  }

  private static String req(Map<String, String> m, String k) {
    String v = m.get(k);
    if (v == null) throw new IllegalArgumentException("the key lacks '" + k + "'");
    return v;
  }

  private String[] parts() {
    return new String[] {segmentSha256, precision, tensorRtVersion, gpuTarget, profile, options};
  }

  /** The canonical text: one {@code name=value} line per part. */
  public String canonical() {
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, String> e : asMap().entrySet()) {
      b.append(e.getKey()).append('=').append(e.getValue()).append('\n');
    }
    return b.toString();
  }

  /** The cache entry name: the first 32 hex digits of the canonical text's SHA-256. */
  public String id() {
    return Sha256.hex(canonical().getBytes(java.nio.charset.StandardCharsets.UTF_8)).substring(0, 32);
  }

  /** How many parts differ from {@code other}. */
  public int distance(EngineKey other) {
    String[] a = parts(), b = other.parts();
    int n = 0;
    for (int i = 0; i < a.length; i++) if (!a[i].equals(b[i])) n++;
    return n;
  }

  /**
   * The parts that differ, as a phrase: "the TensorRT version (the cached engine's 11.2.1, here
   * 11.3.0) and the GPU (...)"; {@code this} is the cached key, {@code wanted} the one needed.
   */
  public String differences(EngineKey wanted) {
    String[] a = parts(), b = wanted.parts();
    List<String> d = new ArrayList<>();
    for (int i = 0; i < a.length; i++) {
      if (!a[i].equals(b[i])) {
        d.add("the " + PART_NAMES[i] + " (cached: " + a[i] + "; needed: " + b[i] + ")");
      }
    }
    if (d.isEmpty()) return "nothing";
    if (d.size() == 1) return d.get(0);
    return String.join(", ", d.subList(0, d.size() - 1)) + " and " + d.get(d.size() - 1);
  }
}
