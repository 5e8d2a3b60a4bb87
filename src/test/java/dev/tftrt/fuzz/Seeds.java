package dev.tftrt.fuzz;

import com.google.protobuf.TextFormat;
import dev.tftrt.cli.Main;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.Npy;
import dev.tftrt.testing.TestModels;
import dev.tftrt.testing.TfGraphs;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;

/**
 * The inputs mutations start from: small graphs and SavedModels built in code, the real models
 * in ../shared/models (when present), a converted folder the tool makes itself, and .npy files.
 * Built once per seed folder (deterministic), so a campaign's cases depend only on its seed.
 */
public final class Seeds {
  /** A model file or folder with what running it needs: its input name and a shape for --shape. */
  public record Model(String name, Path path, String input, String shape, boolean heavy) {
    public boolean isDir() {
      return Files.isDirectory(path);
    }
  }

  public final Path root;
  public final List<Model> graphs = new ArrayList<>();
  public final List<Model> savedModels = new ArrayList<>();
  /** Converted folders, each with the frozen graph it came from (compare's reference). */
  public final List<Model> converted = new ArrayList<>();
  public final List<Model> npyTargets = new ArrayList<>();
  public final List<Path> npys = new ArrayList<>();

  private Seeds(Path root) {
    this.root = root;
  }

  /** Builds (or reuses) the seed corpus under root. */
  public static Seeds prepare(Path root) {
    Seeds s = new Seeds(root);
    try {
      s.build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return s;
  }

  private void build() throws IOException {
    Path built = root.resolve("built");
    Path done = root.resolve("built.done");
    if (!Files.exists(done)) {
      FuzzFiles.deleteTree(built);
      Files.createDirectories(built);
      GraphDef tiny = tinyGraph();
      Files.write(built.resolve("tiny.pb"), tiny.toByteArray());
      Files.writeString(built.resolve("tiny.pbtxt"), TextFormat.printer().printToString(tiny));
      TestModels.writeScalarGraph(built.resolve("scalar.pb"));
      TestModels.saveTwoOutputModel(built.resolve("two_output"), 7);
      TestModels.saveFunctionCallModel(built.resolve("function_call"));
      Npy.write(TestModels.randomFloats(3, 2, 4), built.resolve("x_tiny.npy"));
      Npy.write(TestModels.randomFloats(4, 1, 784), built.resolve("x_mlp.npy"));
      Npy.write(HostTensor.ofFloats(new long[0], 0.5f), built.resolve("s_scalar.npy"));
      convert(built.resolve("two_output"), built.resolve("two_output_converted"));
      convert(built.resolve("tiny.pb"), built.resolve("tiny_converted"), "--min-segment-size", "1");
      Files.writeString(done, "seeds built\n");
    }
    graphs.add(new Model("tiny.pb", built.resolve("tiny.pb"), "x", "x=2,4", false));
    graphs.add(new Model("tiny.pbtxt", built.resolve("tiny.pbtxt"), "x", "x=2,4", false));
    graphs.add(new Model("scalar.pb", built.resolve("scalar.pb"), "s", "s=", false));
    savedModels.add(new Model("two_output", built.resolve("two_output"), "x", "x=3,4", false));
    savedModels.add(new Model("function_call", built.resolve("function_call"), "x", "x=2,2", false));
    converted.add(new Model("two_output_converted", built.resolve("two_output_converted"), "x", "x=3,4", false));
    converted.add(new Model("tiny_converted", built.resolve("tiny_converted"), "x", "x=2,4", false));
    npyTargets.add(new Model("tiny.pb", built.resolve("tiny.pb"), "x", "x=2,4", false));
    npyTargets.add(new Model("scalar.pb", built.resolve("scalar.pb"), "s", "s=", false));
    npys.add(built.resolve("x_tiny.npy"));
    npys.add(built.resolve("s_scalar.npy"));
    npys.add(built.resolve("x_mlp.npy"));

    Path shared = TestModels.sharedModels();
    if (Files.isDirectory(shared)) {
      addShared(graphs, shared, "mlp-fc-layers/frozen.pb", "X", "X=2,784", false);
      addShared(graphs, shared, "regression/graphdef/frozen.pb", "X", "X=3,1", false);
      addShared(graphs, shared, "charrnn-lstm/frozen_model.pb", "input_data", "input_data=10,10", false);
      addShared(graphs, shared, "lstm-unrolled/frozen.pb", "X", "X=1,784", false);
      addShared(graphs, shared, "fsrcnn-x2/FSRCNN_x2.pb", "IteratorGetNext", "IteratorGetNext=1,12,16,1", false);
      addShared(graphs, shared, "kws/DNN_S.pb", "wav_data", "", false);
      addShared(graphs, shared, "kws/DS_CNN_S.pb", "wav_data", "", true);
      addShared(graphs, shared, "mobilenet-v1-025-128/quantized_graph.pb", "input", "input=1,128,128,3", true);
      addShared(graphs, shared, "deeplab-mnv2-portrait/frozen_inference_graph.pb", "ImageTensor", "ImageTensor=1,65,65,3", true);
      addShared(savedModels, shared, "half_plus_two_tf1", "x", "x=2", false);
      addShared(savedModels, shared, "half_plus_two_tf2", "x", "x=2", false);
      addShared(savedModels, shared, "regression/saved_model", "X", "X=3,1", false);
      addShared(savedModels, shared, "mlnet-cifar-tf1", "Input", "Input=1,32,32,3", true);
      addShared(npyTargets, shared, "mlp-fc-layers/frozen.pb", "X", "X=1,784", false);
    }
  }

  private static void addShared(List<Model> to, Path shared, String rel, String input, String shape, boolean heavy) {
    Path p = shared.resolve(rel);
    if (Files.exists(p)) to.add(new Model(rel, p, input, shape, heavy));
  }

  /** x float32[?,4] → y = relu(x·W + b) float32[?,3], with W and b as Consts. */
  static GraphDef tinyGraph() {
    float[] w = new float[12];
    for (int i = 0; i < w.length; i++) w[i] = (i % 5 - 2) * 0.25f;
    return TfGraphs.graph(List.of(
        TfGraphs.placeholder("x", DataType.DT_FLOAT, -1, 4),
        TfGraphs.constant("w", HostTensor.ofFloats(new long[] {4, 3}, w)),
        TfGraphs.constant("b", HostTensor.ofFloats(new long[] {3}, 0.5f, -0.5f, 0.25f)),
        TfGraphs.op("MatMul", "mm", "x", "w"),
        TfGraphs.op("BiasAdd", "ba", "mm", "b"),
        TfGraphs.op("Relu", "y", "ba")));
  }

  private static void convert(Path model, Path out, String... extra) {
    // --keep-frozen: compare cases use the folder's frozen.pb as their reference; --fallback
    // tensorflow: run cases try every backend.
    List<String> args = new ArrayList<>(List.of("convert", model.toString(), "-o", out.toString(), "--keep-frozen",
        "--fallback", "tensorflow"));
    args.addAll(List.of(extra));
    StringWriter err = new StringWriter();
    int code = Main.execute(args.toArray(String[]::new), new PrintWriter(new StringWriter()), new PrintWriter(err));
    if (code != 0) throw new IllegalStateException("seed conversion of " + model + " failed (exit " + code + "): " + err);
  }

  public static byte[] bytes(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String text(Path p) {
    return new String(bytes(p), StandardCharsets.UTF_8);
  }
}
