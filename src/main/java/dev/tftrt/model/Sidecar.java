package dev.tftrt.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tftrt.TftrtException;
import dev.tftrt.tensor.DTypes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.DataType;

/**
 * The small JSON file written beside a frozen graph (model.pb → model.json): the signature's
 * input and output names mapped to tensors, their dtypes and shapes, where the graph came from
 * and what freezing did. With it, a frozen graph keeps the names users know its signature by.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Sidecar(String format, String source, String sourceFormat, String signature,
    List<String> tags, List<Tensor> inputs, List<Tensor> outputs, Map<String, Object> freezing) {

  public static final String FORMAT = "tftrt-frozen/1";

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** One input or output: signature name, tensor, dtype name (float32...) and shape. */
  public record Tensor(String name, String tensor, String dtype, long[] shape) {
    public static Tensor of(TensorSpec s) {
      return new Tensor(s.key(), s.tensor(), DTypes.name(s.dtype()), s.shape());
    }

    public TensorSpec toSpec(Path file) {
      DataType t = DTypes.fromName(dtype);
      if (t == null) throw new TftrtException(file + " names an unknown dtype '" + dtype + "'.");
      return new TensorSpec(name, tensor, t, shape);
    }
  }

  public static Sidecar of(String source, String sourceFormat, String signature, List<String> tags,
      List<TensorSpec> inputs, List<TensorSpec> outputs, Map<String, Object> freezing) {
    return new Sidecar(FORMAT, source, sourceFormat, signature, tags,
        inputs.stream().map(Tensor::of).toList(), outputs.stream().map(Tensor::of).toList(),
        new LinkedHashMap<>(freezing));
  }

  public List<TensorSpec> inputSpecs(Path file) {
    List<TensorSpec> r = new ArrayList<>();
    for (Tensor t : inputs) r.add(t.toSpec(file));
    return r;
  }

  public List<TensorSpec> outputSpecs(Path file) {
    List<TensorSpec> r = new ArrayList<>();
    for (Tensor t : outputs) r.add(t.toSpec(file));
    return r;
  }

  /** The sidecar path for a graph file: model.pb → model.json. */
  public static Path pathFor(Path graphFile) {
    String name = graphFile.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String stem = dot > 0 ? name.substring(0, dot) : name;
    return graphFile.resolveSibling(stem + ".json");
  }

  public byte[] toBytes() {
    try {
      return JSON.writeValueAsBytes(this);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The sidecar beside graphFile, or null when there is none (or it is some other JSON). */
  public static Sidecar readBeside(Path graphFile) {
    Path p = pathFor(graphFile);
    if (!Files.isRegularFile(p)) return null;
    Sidecar s;
    try {
      s = JSON.readValue(p.toFile(), Sidecar.class);
    } catch (IOException e) {
      // A JSON file of the same name that is not ours is not an error; a broken one of ours is.
      String text;
      try {
        text = Files.readString(p);
      } catch (IOException e2) {
        return null;
      }
      if (text.contains(FORMAT)) {
        throw new TftrtException(p + " is a damaged tftrt sidecar: it is not valid JSON.");
      }
      return null;
    }
    return FORMAT.equals(s.format()) ? s : null;
  }
}
