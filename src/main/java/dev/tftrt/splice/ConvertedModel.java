package dev.tftrt.splice;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tftrt.TftrtException;
import dev.tftrt.model.Sidecar;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.TensorProtos;
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
 * The folder `tftrt convert` writes. Its manifest, tftrt.json, says what is in it:
 *
 * <pre>
 * OUTDIR/
 *   tftrt.json              format and version, signature, inputs/outputs, engines
 *   saved_model.pb          the converted graph as a SavedModel (signature kept)
 *   converted.pb/.json      the same graph as a GraphDef with its sidecar
 *   frozen.pb/.json         the frozen original, for comparison and fallback
 *   segments/NAME.onnx      each engine's ONNX model (also inside its node)
 *   report.json, report.md  what conversion did
 * </pre>
 */
public final class ConvertedModel {
  public static final String FORMAT = "tftrt-converted";
  /** The layout this code writes and the newest it reads. */
  public static final int VERSION = 1;
  public static final String MANIFEST = "tftrt.json";

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private ConvertedModel() {}

  /** One engine as the manifest lists it. */
  public record Engine(String name, int ops, List<String> inputs, List<String> outputs, String onnx,
      String backend, String precision) {}

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

  public static Manifest readManifest(Path dir) {
    Path file = dir.resolve(MANIFEST);
    Manifest m;
    try {
      m = JSON.readValue(file.toFile(), Manifest.class);
    } catch (IOException e) {
      throw new TftrtException(file + " is damaged: it is not a valid tftrt manifest.");
    }
    if (!FORMAT.equals(m.format())) {
      throw new TftrtException(file + " is not a tftrt converted-model manifest.");
    }
    if (m.version() > VERSION) {
      throw new TftrtException(dir + " was written by a newer tftrt (format version " + m.version()
          + "); this one reads up to version " + VERSION + ".");
    }
    return m;
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
