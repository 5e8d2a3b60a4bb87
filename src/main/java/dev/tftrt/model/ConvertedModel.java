package dev.tftrt.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tftrt.TftrtException;
import dev.tftrt.model.Sidecar;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.TensorProtos;
import dev.tftrt.util.InputFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * The folder `tftrt convert` writes (format 2). Its manifest, tftrt.json, says what is in it:
 *
 * <pre>
 * OUTDIR/
 *   tftrt.json              format and version, signature, inputs/outputs, engines and their payloads
 *   saved_model.pb          the converted graph as a SavedModel (signature kept); engine nodes
 *                           carry only dtypes, shapes and names, no payload
 *   payloads/SHA256.EXT     each payload once, named by its SHA-256 (see {@link Payloads})
 *   frozen.pb/.json         the frozen original, only with --keep-frozen
 *   report.json, report.md  what conversion did
 * </pre>
 *
 * Format 1 (every engine node carrying its ONNX model and original segment, the graph saved
 * twice, segments/*.onnx) is no longer read: such a folder is refused with a sentence saying to
 * convert again.
 */
public final class ConvertedModel {
  public static final String FORMAT = "tftrt-converted";
  /** The layout this code writes, and the only one it reads. */
  public static final int VERSION = 2;
  public static final String MANIFEST = "tftrt.json";

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private ConvertedModel() {}

  /**
   * One engine as the manifest lists it: its node's name, the segment it replaces and what can
   * run it ({@link Payload}s: ONNX now, TensorRT plans later, the original segment only when the
   * tensorflow fallback was asked for). Every engine node of the graph must be listed.
   */
  public record Engine(String name, int ops, List<String> inputs, List<String> outputs, String backend,
      String precision, List<Payload> payloads) {}

  /**
   * One file an engine runs from. kind: {@value Payloads#ONNX}, {@value Payloads#TF_SEGMENT} or
   * {@value Payloads#TENSORRT_PLAN}; file: relative to the folder and inside it; sha256: its hex
   * SHA-256, required (removing it must not turn the check off) and checked when it is read;
   * bytes: its size; precision: what it computes in; key: what it was made for, open (for a
   * TensorRT plan: TensorRT version, compute capability, shape profiles), empty for ONNX.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Payload(String kind, String file, String sha256, long bytes, String precision,
      java.util.Map<String, Object> key) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Manifest(String format, int version, String source, String signature,
      List<Sidecar.Tensor> inputs, List<Sidecar.Tensor> outputs, List<Engine> engines) {
    public List<TensorSpec> inputSpecs(Path dir) {
      return inputs.stream().map(t -> t.toSpec(dir.resolve(MANIFEST))).toList();
    }

    public List<TensorSpec> outputSpecs(Path dir) {
      return outputs.stream().map(t -> t.toSpec(dir.resolve(MANIFEST))).toList();
    }
  }

  public static boolean isConverted(Path dir) {
    return Files.isDirectory(dir) && Files.isRegularFile(dir.resolve(MANIFEST));
  }

  public static byte[] manifestBytes(Manifest m) {
    try {
      return JSON.writeValueAsBytes(m);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static byte[] json(Object value) {
    try {
      return JSON.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A manifest is a few KB; anything near this is not one. */
  private static final long MANIFEST_LIMIT = 64L << 20;

  public static Manifest readManifest(Path dir) {
    Path file = file(dir, MANIFEST, "the manifest");
    Manifest m;
    try {
      m = JSON.readValue(InputFiles.read(file, MANIFEST_LIMIT, "a tftrt manifest"), Manifest.class);
    } catch (IOException e) {
      throw new TftrtException(file + " is damaged: it is not a valid tftrt manifest.");
    }
    if (m == null) throw new TftrtException(file + " is damaged: it is not a valid tftrt manifest.");
    if (!FORMAT.equals(m.format())) {
      throw new TftrtException(file + " is not a tftrt converted-model manifest.");
    }
    if (m.version() > VERSION) {
      throw new TftrtException(dir + " was written by a newer tftrt (format version " + m.version()
          + "); this one reads up to version " + VERSION + ".");
    }
    if (m.version() < VERSION) {
      throw new TftrtException(dir + " is a converted model of format " + m.version()
          + ", which this tftrt no longer reads: convert the original model again with tftrt convert.");
    }
    validate(m, dir, file);
    return m;
  }

  /** The manifest as a whole: every list present, every entry complete, every path contained. */
  private static void validate(Manifest m, Path dir, Path file) {
    if (m.signature() == null || m.signature().isEmpty()) throw damaged(file, "it names no signature");
    if (m.inputs() == null) throw damaged(file, "it has no 'inputs' list");
    if (m.outputs() == null || m.outputs().isEmpty()) throw damaged(file, "it has no 'outputs'");
    if (m.engines() == null) throw damaged(file, "it has no 'engines' list");
    for (List<Sidecar.Tensor> list : List.of(m.inputs(), m.outputs())) {
      String kind = list == m.inputs() ? "input" : "output";
      for (Sidecar.Tensor t : list) {
        if (t == null || t.name() == null || t.name().isEmpty() || t.tensor() == null || t.tensor().isEmpty()
            || t.dtype() == null) {
          throw damaged(file, "an " + kind + " lacks its name, tensor or dtype");
        }
        if (!t.tensor().matches("[^:^]+(:\\d{1,6})?")) {
          throw damaged(file, kind + " '" + t.name() + "' names '" + t.tensor() + "', which is not a tensor name");
        }
        t.toSpec(file);
      }
    }
    java.util.Set<String> names = new java.util.HashSet<>();
    for (Engine e : m.engines()) {
      if (e == null || e.name() == null || e.name().isEmpty()) throw damaged(file, "an engine has no name");
      if (!names.add(e.name())) throw damaged(file, "it lists engine '" + e.name() + "' twice");
      if (e.payloads() == null || e.payloads().isEmpty()) {
        throw damaged(file, "engine '" + e.name() + "' lists no payloads");
      }
      for (Payload p : e.payloads()) {
        if (p == null || p.kind() == null || !p.kind().matches("[a-z0-9][a-z0-9-]{0,63}") || p.file() == null) {
          throw damaged(file, "a payload of engine '" + e.name() + "' lacks its kind or file");
        }
        if (p.sha256() == null || !p.sha256().matches("[0-9a-f]{64}")) {
          throw new TftrtException(file + " has no SHA-256 for the " + p.kind() + " payload of engine '" + e.name()
              + "', so it cannot be checked: convert the model again.");
        }
        file(dir, p.file(), "engine '" + e.name() + "'");
      }
    }
  }

  private static TftrtException damaged(Path file, String why) {
    return new TftrtException(file + " is damaged: " + why + ".");
  }

  /**
   * dir/relative, refused unless it stays inside dir: relative, no way up out of it after
   * normalisation, and no link leading out. The sentence is the same whether or not anything
   * exists outside, so a manifest cannot be used to probe the file system.
   */
  public static Path file(Path dir, String relative, String what) {
    Path base = dir.toAbsolutePath().normalize();
    Path p;
    try {
      p = relative == null || relative.isEmpty() ? null : Path.of(relative);
    } catch (java.nio.file.InvalidPathException e) {
      p = null;
    }
    Path f = p == null || p.isAbsolute() ? null : base.resolve(p).normalize();
    String refusal = dir.resolve(MANIFEST) + " names '" + relative + "' for " + what + ", which is not a file inside " + dir + ".";
    if (f == null || !f.startsWith(base) || f.equals(base)) throw new TftrtException(refusal);
    // The deepest part of the path that exists (itself, or a link, or a folder above it) must
    // really be inside: a link out, dangling or not, is refused alike.
    Path existing = f;
    while (!existing.equals(base) && !Files.exists(existing, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.getParent();
    }
    try {
      if (!existing.toRealPath().startsWith(base.toRealPath())) throw new TftrtException(refusal);
    } catch (IOException e) {
      throw new TftrtException(refusal);
    }
    return f;
  }

  /** A SavedModel holding graph, tagged serve, with one signature. */
  public static SavedModel savedModel(GraphDef graph, String signature, List<TensorSpec> inputs,
      List<TensorSpec> outputs) {
    SignatureDef.Builder sig = SignatureDef.newBuilder().setMethodName("tensorflow/serving/predict");
    for (TensorSpec s : inputs) sig.putInputs(s.key(), info(s));
    for (TensorSpec s : outputs) sig.putOutputs(s.key(), info(s));
    MetaGraphDef meta = MetaGraphDef.newBuilder()
        .setMetaInfoDef(MetaGraphDef.MetaInfoDef.newBuilder().addTags("serve")
            .setTensorflowVersion(org.tensorflow.TensorFlow.version()))
        .setGraphDef(graph)
        .putSignatureDef(signature, sig.build())
        .build();
    return SavedModel.newBuilder().setSavedModelSchemaVersion(1).addMetaGraphs(meta).build();
  }

  private static TensorInfo info(TensorSpec s) {
    return TensorInfo.newBuilder().setName(s.tensor()).setDtype(s.dtype())
        .setTensorShape(TensorProtos.shape(s.shape())).build();
  }
}
