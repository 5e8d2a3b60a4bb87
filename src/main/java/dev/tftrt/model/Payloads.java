package dev.tftrt.model;

import dev.tftrt.TftrtException;
import dev.tftrt.util.AtomicFiles;
import dev.tftrt.util.InputFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The payloads of a converted folder's engines: each a file under {@value #FOLDER}/ named by its
 * SHA-256 (so identical payloads are stored once), listed per engine in tftrt.json with kind,
 * hash, size, precision and an open key. Reading checks containment and the hash; adding writes
 * the file and the new manifest together, or neither (AtomicFiles).
 *
 * <pre>
 * var m = ConvertedModel.readManifest(dir);
 * for (ConvertedModel.Payload p : Payloads.list(m, "TftrtEngine_0")) ...
 * byte[] onnx = Payloads.read(dir, "TftrtEngine_0", Payloads.find(m, "TftrtEngine_0", Payloads.ONNX).get());
 * Payloads.add(dir, "TftrtEngine_0", Payloads.TENSORRT_PLAN, plan, "fp16", Map.of("trt", "11.0", "sm", "90"));
 * </pre>
 */
public final class Payloads {
  private Payloads() {}

  /** The segment as an ONNX model, what onnxruntime (and TensorRT's parser) read. */
  public static final String ONNX = "onnx";
  /** The original segment as a GraphDef, for the tensorflow backend; stored only when asked. */
  public static final String TF_SEGMENT = "tf-segment";
  /** A serialized TensorRT engine; its key says for which TensorRT, GPU, precision and profiles. */
  public static final String TENSORRT_PLAN = "tensorrt-plan";
  /** The folder payload files live in. */
  public static final String FOLDER = "payloads";

  /** payloads/SHA256.EXT: the file name a payload of this kind and content gets. */
  public static String fileName(String kind, String sha256) {
    String ext = switch (kind) {
      case ONNX -> ".onnx";
      case TF_SEGMENT -> ".pb";
      case TENSORRT_PLAN -> ".plan";
      default -> ".bin";
    };
    return FOLDER + "/" + sha256 + ext;
  }

  /** The engine's payloads as listed (empty when the manifest has no such engine). */
  public static List<ConvertedModel.Payload> list(ConvertedModel.Manifest m, String engine) {
    return engine(m, engine).map(ConvertedModel.Engine::payloads).orElse(List.of());
  }

  /** The engine's first payload of this kind. */
  public static Optional<ConvertedModel.Payload> find(ConvertedModel.Manifest m, String engine, String kind) {
    return list(m, engine).stream().filter(p -> p.kind().equals(kind)).findFirst();
  }

  static Optional<ConvertedModel.Engine> engine(ConvertedModel.Manifest m, String engine) {
    return m.engines().stream().filter(e -> e.name().equals(engine)).findFirst();
  }

  /**
   * The payload's bytes, refused with one sentence when its file is outside the folder, missing,
   * not a regular file, or not the bytes its SHA-256 names.
   */
  public static byte[] read(Path dir, String engine, ConvertedModel.Payload p) {
    String what = "the " + p.kind() + " payload of engine '" + engine + "'";
    Path f = ConvertedModel.file(dir, p.file(), what);
    if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
      throw new TftrtException(dir + " is incomplete: " + p.file() + " (" + what + ") is missing; convert the model again.");
    }
    byte[] bytes = InputFiles.read(f, InputFiles.PROTOBUF_LIMIT, what);
    if (!dev.tftrt.util.Sha256.hex(bytes).equals(p.sha256())) {
      throw new TftrtException(f + " does not match its SHA-256 in " + ConvertedModel.MANIFEST
          + "; the folder has been edited: convert the model again.");
    }
    return bytes;
  }

  /**
   * Writes bytes as a payload file of dir (a folder being filled, not yet in place: plain
   * writes) and returns its manifest entry.
   */
  public static ConvertedModel.Payload store(Path dir, String kind, byte[] bytes, String precision,
      Map<String, Object> key) throws IOException {
    ConvertedModel.Payload p = entry(kind, bytes, precision, key);
    Files.createDirectories(dir.resolve(FOLDER));
    Path f = dir.resolve(p.file());
    if (!Files.exists(f)) Files.write(f, bytes); // same hash, same bytes: stored once
    return p;
  }

  /**
   * Adds a payload to an engine of an existing converted folder (a TensorRT plan built for this
   * GPU, say): the file and the updated tftrt.json are written together or not at all. A payload
   * of the same kind and key replaces the old entry (its file stays if another entry names it).
   */
  public static ConvertedModel.Payload add(Path dir, String engine, String kind, byte[] bytes, String precision,
      Map<String, Object> key) {
    ConvertedModel.Manifest m = ConvertedModel.readManifest(dir);
    if (engine(m, engine).isEmpty()) {
      throw new TftrtException(dir.resolve(ConvertedModel.MANIFEST) + " lists no engine '" + engine + "'.");
    }
    ConvertedModel.Payload p = entry(kind, bytes, precision, key);
    List<ConvertedModel.Engine> engines = new ArrayList<>();
    for (ConvertedModel.Engine e : m.engines()) {
      if (!e.name().equals(engine)) {
        engines.add(e);
        continue;
      }
      List<ConvertedModel.Payload> ps = new ArrayList<>();
      for (ConvertedModel.Payload q : e.payloads()) {
        Map<String, Object> qk = q.key() == null ? Map.of() : q.key();
        if (!(q.kind().equals(kind) && qk.equals(p.key()))) ps.add(q);
      }
      ps.add(p);
      engines.add(new ConvertedModel.Engine(e.name(), e.ops(), e.inputs(), e.outputs(), e.backend(), e.precision(), ps));
    }
    ConvertedModel.Manifest updated = new ConvertedModel.Manifest(m.format(), m.version(), m.source(), m.signature(),
        m.inputs(), m.outputs(), engines);
    try {
      Files.createDirectories(dir.resolve(FOLDER));
    } catch (IOException e) {
      throw new TftrtException("cannot write " + dir.resolve(FOLDER) + ": " + AtomicFiles.reason(e) + ".", e);
    }
    Map<Path, AtomicFiles.Writer> files = new LinkedHashMap<>();
    files.put(ConvertedModel.file(dir, p.file(), "the new payload"), out -> out.write(bytes));
    files.put(dir.resolve(ConvertedModel.MANIFEST), out -> out.write(ConvertedModel.manifestBytes(updated)));
    AtomicFiles.write(files);
    return p;
  }

  private static ConvertedModel.Payload entry(String kind, byte[] bytes, String precision, Map<String, Object> key) {
    if (kind == null || !kind.matches("[a-z0-9][a-z0-9-]{0,63}")) {
      throw new IllegalArgumentException("payload kind '" + kind + "' is not lower-case letters, digits and dashes");
    }
    String sha = dev.tftrt.util.Sha256.hex(bytes);
    return new ConvertedModel.Payload(kind, fileName(kind, sha), sha, bytes.length, precision,
        key == null ? Map.of() : new LinkedHashMap<>(key));
  }
}
