package dev.tftrt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.convert.onnx.NodeProto;
import dev.tftrt.convert.onnx.ValueInfoProto;
import dev.tftrt.demo.DemoModel;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.Npz;
import dev.tftrt.tensor.Wav;
import dev.tftrt.testing.Cli;
import dev.tftrt.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.SavedModel;

/**
 * The commands that go beyond freezing, run in-process through Main.execute: export-onnx,
 * inspect and convert, and run/compare on converted folders and .onnx files. The demo model is
 * built and converted once for the whole class; shared models are skipped when absent.
 */
class ConvertCliTest {
  @TempDir static Path shared;
  /** The demo SavedModel (DemoModel.save, seed 1) and its conversion with default options. */
  static Path demoModel;
  static Path demoOut;
  static Cli.Result convertDemo;

  @TempDir Path tmp;

  private static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void convertDemoOnce() {
    demoModel = shared.resolve("demo_saved_model");
    DemoModel.save(demoModel, 1);
    demoOut = shared.resolve("demo_converted");
    // --fallback tensorflow: the compare tests run it on the tensorflow backend too.
    convertDemo = Cli.run("convert", demoModel.toString(), "-o", demoOut.toString(), "--fallback", "tensorflow");
  }

  private static void assertExit(int code, Cli.Result r) {
    assertEquals(code, r.code(), r.toString());
  }

  private static Path demoConverted() {
    assertExit(0, convertDemo);
    return demoOut;
  }

  private static List<String> lines(String text) {
    return text.lines().toList();
  }

  private static void assertHasLine(String expected, String text) {
    assertTrue(lines(text).contains(expected), "no line '" + expected + "' in:\n" + text);
  }

  private static void assertHasLineMatching(String regex, String text) {
    Pattern p = Pattern.compile(regex);
    assertTrue(text.lines().anyMatch(l -> p.matcher(l).matches()), "no line matching /" + regex + "/ in:\n" + text);
  }

  private static JsonNode json(Path file) throws IOException {
    return JSON.readTree(file.toFile());
  }

  private static List<String> texts(JsonNode array) {
    List<String> r = new ArrayList<>();
    for (JsonNode n : array) r.add(n.asText());
    return r;
  }

  private static ModelProto onnx(Path file) throws IOException {
    return ModelProto.parseFrom(Files.readAllBytes(file));
  }

  private static List<String> names(List<ValueInfoProto> values) {
    return values.stream().map(ValueInfoProto::getName).toList();
  }

  private static Set<String> onnxOps(ModelProto m) {
    Set<String> r = new TreeSet<>();
    for (NodeProto n : m.getGraph().getNodeList()) r.add(n.getOpType());
    return r;
  }

  /** The unsupported entries of a plan report as "node (op): reason". */
  private static List<String> unsupported(JsonNode report) {
    List<String> r = new ArrayList<>();
    for (JsonNode u : report.get("unsupported")) {
      r.add(u.get("node").asText() + " (" + u.get("op").asText() + "): " + u.get("reason").asText());
    }
    return r;
  }

  private static Path dsCnn() {
    return TestModels.shared("kws/DS_CNN_S.pb");
  }

  private static final List<String> DS_CNN_AUDIO_OPS = List.of(
      "decoded_sample_data (DecodeWav): no converter handles op DecodeWav.",
      "AudioSpectrogram (AudioSpectrogram): no converter handles op AudioSpectrogram.",
      "Mfcc (Mfcc): no converter handles op Mfcc.");

  // ------------------------------------------------------------------ export-onnx

  @Test
  @DisplayName("export-onnx of mlp-fc-layers writes a .onnx that compare accepts against the frozen graph")
  void exportMlpAndCompare() throws IOException {
    Path model = TestModels.shared("mlp-fc-layers/frozen.pb");
    Path out = tmp.resolve("mlp.onnx");
    Cli.Result r = Cli.run("export-onnx", model.toString(), "-o", out.toString());
    assertExit(0, r);
    assertEquals("", r.err());
    assertEquals(List.of("mlp.onnx"), TestModels.listing(tmp));
    assertTrue(r.out().startsWith("exported " + model + " -> " + out + " (opset 17): "), r.out());
    assertHasLine("    X:0 float[?, 784]", r.out());
    assertHasLine("    output:0 float[?, 10]", r.out());
    ModelProto m = onnx(out);
    assertEquals(List.of("X:0"), names(m.getGraph().getInputList()));
    assertEquals(List.of("output:0"), names(m.getGraph().getOutputList()));
    assertEquals(17, m.getOpsetImport(0).getVersion());

    Cli.Result c = Cli.run("compare", model.toString(), out.toString(), "--random", "--shape", "X=4,784");
    assertExit(0, c);
    assertHasLine("all outputs within tolerance", c.out());
    assertHasLineMatching("  output +\\S+ +\\S+ +1\\.000000  (ok|identical)", c.out());

    // Either side may be the .onnx file, and run takes it too.
    Cli.Result back = Cli.run("compare", out.toString(), model.toString(), "--random", "--shape", "X=4,784");
    assertExit(0, back);
    Path npz = tmp.resolve("out.npz");
    Cli.Result run = Cli.run("run", out.toString(), "--random", "--shape", "X=4,784", "-o", npz.toString());
    assertExit(0, run);
    assertArrayEquals(new long[] {4, 10}, Npz.read(npz).get("output:0").shape());
  }

  @Test
  @DisplayName("export-onnx of DS_CNN_S without a cut exits 2, lists the audio ops with reasons, writes nothing")
  void exportDsCnnWithoutCut() throws IOException {
    Path model = dsCnn();
    Path dir = Files.createDirectory(tmp.resolve("out"));
    Cli.Result r = Cli.run("export-onnx", model.toString(), "-o", dir.resolve("ds_cnn.onnx").toString());
    assertExit(2, r);
    List<String> expected = new ArrayList<>();
    expected.add("not exported: 3 node(s) do not convert:");
    for (String u : DS_CNN_AUDIO_OPS) expected.add("  " + u);
    assertEquals(expected, lines(r.out()));
    assertEquals("tftrt: 3 nodes do not convert to ONNX (listed above): leave them out by cutting the graph"
        + " with --inputs or --outputs.\n", r.err());
    assertEquals(List.of(), TestModels.listing(dir)); // no file, no hidden temporary
  }

  @Test
  @DisplayName("export-onnx of DS_CNN_S cut at Mfcc:0 exits 0, and compare with the same cut passes")
  void exportDsCnnCutAtMfcc() throws IOException {
    Path model = dsCnn();
    Path out = tmp.resolve("ds_cnn.onnx");
    Cli.Result r = Cli.run("export-onnx", model.toString(), "-o", out.toString(), "--inputs", "Mfcc:0");
    assertExit(0, r);
    assertEquals("", r.err());
    assertHasLine("    Mfcc:0 float[1, 49, 10]", r.out());
    assertHasLine("    labels_softmax:0 float[1, 12]", r.out());
    assertEquals(List.of("ds_cnn.onnx"), TestModels.listing(tmp));
    ModelProto m = onnx(out);
    assertEquals(List.of("Mfcc:0"), names(m.getGraph().getInputList()));
    assertEquals(List.of("labels_softmax:0"), names(m.getGraph().getOutputList()));
    Set<String> ops = onnxOps(m);
    assertTrue(ops.contains("Conv"), ops.toString());
    for (String audio : List.of("DecodeWav", "AudioSpectrogram", "Mfcc")) assertFalse(ops.contains(audio), ops.toString());

    Cli.Result c = Cli.run("compare", model.toString(), out.toString(), "--inputs", "Mfcc:0", "--random");
    assertExit(0, c);
    assertHasLine("all outputs within tolerance", c.out());
  }

  @Test
  @DisplayName("export-onnx of deeplab at 1x257x257x3 exits 0 with fixed shapes")
  void exportDeeplab() throws IOException {
    Path model = TestModels.shared("deeplab-mnv2-portrait/frozen_inference_graph.pb");
    Path out = tmp.resolve("deeplab.onnx");
    Cli.Result r = Cli.run("export-onnx", model.toString(), "-o", out.toString(), "--shape", "ImageTensor=1,257,257,3");
    assertExit(0, r);
    assertEquals("", r.err());
    assertHasLine("    ImageTensor:0 uint8[1, 257, 257, 3]", r.out());
    assertHasLine("    SemanticPredictions:0 int32[1, 257, 257]", r.out());
    assertHasLineMatching("  SemanticPredictions +0\\.000 +0\\.000 +1\\.000000  identical", r.out());
    assertEquals(List.of("ImageTensor:0"), names(onnx(out).getGraph().getInputList()));
  }

  @Test
  @DisplayName("export-onnx --opset 5 exits 2 with one sentence and writes nothing")
  void exportOldOpset() {
    Path out = tmp.resolve("o.onnx");
    Cli.Result r = Cli.run("export-onnx", TestModels.shared("mlp-fc-layers/frozen.pb").toString(), "-o", out.toString(),
        "--opset", "5");
    assertExit(2, r);
    assertEquals("tftrt: ONNX opset 5 is too old; use 13 or later.\n", r.err());
    assertEquals(List.of(), TestModels.listing(tmp));
  }

  @Test
  @DisplayName("export-onnx --inputs naming a tensor that does not exist exits 2")
  void exportUnknownCut() {
    Path model = TestModels.shared("mlp-fc-layers/frozen.pb");
    Cli.Result r = Cli.run("export-onnx", model.toString(), "-o", tmp.resolve("o.onnx").toString(), "--inputs", "nosuch:0");
    assertExit(2, r);
    assertEquals("tftrt: --inputs names 'nosuch:0', but " + model + " has no node 'nosuch'.\n", r.err());
    Cli.Result index = Cli.run("export-onnx", model.toString(), "-o", tmp.resolve("o.onnx").toString(), "--inputs", "X:3");
    assertExit(2, index);
    assertEquals("tftrt: --inputs names 'X:3', but node 'X' has 1 output(s).\n", index.err());
    assertEquals(List.of(), TestModels.listing(tmp));
  }

  @Test
  @DisplayName("a failed export-onnx leaves an existing OUT.onnx as it was")
  void exportFailureKeepsOldFile() throws IOException {
    Path out = Files.writeString(tmp.resolve("ds_cnn.onnx"), "old");
    Cli.Result r = Cli.run("export-onnx", dsCnn().toString(), "-o", out.toString());
    assertExit(2, r);
    assertEquals("old", Files.readString(out));
    assertEquals(List.of("ds_cnn.onnx"), TestModels.listing(tmp));
  }

  // ------------------------------------------------------------------ inspect

  @Test
  @DisplayName("inspect DS_CNN_S shows one engine fed by Mfcc:0 and the audio ops left in TensorFlow with reasons")
  void inspectDsCnn() {
    Path model = dsCnn();
    Cli.Result r = Cli.run("inspect", model.toString());
    assertExit(0, r);
    assertEquals("", r.err());
    String out = r.out();
    assertTrue(out.startsWith("# tftrt plan for " + model + "\n"), out);
    assertHasLine("## Engines: 1", out);
    assertHasLineMatching("- \\*\\*TftrtEngine_0\\*\\*: \\d+ ops \\(\\d+ nodes with constants\\); inputs Mfcc:0;"
        + " outputs labels_softmax:0", out);
    assertHasLine("Compute-heavy ops (conv, matmul) inside engines: 10 of 10.", out);
    assertHasLine("- DecodeWav: no converter handles op DecodeWav. — 1 node(s): decoded_sample_data", out);
    assertHasLine("- AudioSpectrogram: no converter handles op AudioSpectrogram. — 1 node(s): AudioSpectrogram", out);
    assertHasLine("- Mfcc: no converter handles op Mfcc. — 1 node(s): Mfcc", out);
  }

  @Test
  @DisplayName("inspect --json parses and has segments, unsupported and computeHeavyOps")
  void inspectDsCnnJson() throws IOException {
    Cli.Result r = Cli.run("inspect", dsCnn().toString(), "--json");
    assertExit(0, r);
    JsonNode j = JSON.readTree(r.out());
    JsonNode segments = j.get("segments");
    assertEquals(1, segments.size(), r.out());
    assertEquals(List.of("Mfcc:0"), texts(segments.get(0).get("inputs")));
    assertEquals(List.of("labels_softmax:0"), texts(segments.get(0).get("outputs")));
    List<String> bad = unsupported(j);
    for (String u : DS_CNN_AUDIO_OPS) assertTrue(bad.contains(u), u + " missing from " + bad);
    assertEquals(10, j.get("computeHeavyOps").get("inEngines").asInt(), r.out());
    assertEquals(10, j.get("computeHeavyOps").get("total").asInt(), r.out());
  }

  @Test
  @DisplayName("inspect on a converted folder prints the report written at conversion (and --json its report.json)")
  void inspectConvertedFolder() throws IOException {
    Path dir = demoConverted();
    Cli.Result r = Cli.run("inspect", dir.toString());
    assertExit(0, r);
    assertEquals(Files.readString(dir.resolve("report.md")), r.out());
    assertTrue(r.out().startsWith("# tftrt plan for " + demoModel + "\n"), r.out());
    assertHasLine("## Engines as built", r.out());
    assertHasLine("## Verification against the original", r.out());

    Cli.Result j = Cli.run("inspect", dir.toString(), "--json");
    assertExit(0, j);
    assertEquals(json(dir.resolve("report.json")), JSON.readTree(j.out()));
    assertEquals("TftrtEngine_0", JSON.readTree(j.out()).get("engines").get(0).get("engine").asText());
  }

  // ------------------------------------------------------------------ convert the demo model

  @Test
  @DisplayName("convert of the demo model exits 0 and writes the converted folder")
  void convertDemoFolder() throws IOException {
    Path dir = demoConverted();
    assertEquals("", convertDemo.err());
    assertEquals(List.of("payloads", "report.json", "report.md", "saved_model.pb", "tftrt.json", "tftrt.sha256"), TestModels.listing(dir));
    JsonNode payloads = json(dir.resolve("tftrt.json")).get("engines").get(0).get("payloads");
    String onnxFile = payloads.get(0).get("file").asText();
    assertEquals("tf-segment", payloads.get(1).get("kind").asText(), "kept because of --fallback tensorflow");
    assertEquals(java.util.stream.Stream.of(onnxFile, payloads.get(1).get("file").asText())
        .map(f -> f.substring("payloads/".length())).sorted().toList(), TestModels.listing(dir.resolve("payloads")));
    assertEquals(List.of("demo_converted", "demo_saved_model"), TestModels.listing(shared)); // no temporaries
    String out = convertDemo.out();
    assertTrue(out.startsWith("converted " + demoModel + " -> " + demoOut + " in "), out);
    assertHasLineMatching("  nodes: \\d+ frozen, \\d+ optimized; 1 engine\\(s\\); \\d+ node\\(s\\) left in TensorFlow;"
        + " compute-heavy ops in engines: 4 of 4", out);
    assertHasLineMatching("  TftrtEngine_0: \\d+ ops, \\d+ ONNX nodes, \\d+ transposes, backend onnxruntime", out);
    assertHasLine("  report: " + dir.resolve("report.md"), out);

    JsonNode manifest = json(dir.resolve("tftrt.json"));
    assertEquals("tftrt-converted", manifest.get("format").asText());
    assertEquals("serving_default", manifest.get("signature").asText());
    assertEquals(List.of("image"), manifest.get("inputs").findValuesAsText("name"));
    assertEquals(List.of("logits", "probabilities"), manifest.get("outputs").findValuesAsText("name"));
    assertEquals(1, manifest.get("engines").size(), manifest.toString());
    JsonNode payload = manifest.get("engines").get(0).get("payloads").get(0);
    assertEquals("onnx", payload.get("kind").asText());
    assertEquals("payloads/" + payload.get("sha256").asText() + ".onnx", payload.get("file").asText());

    // All four convolutions and matmuls went into the engine; the graph keeps the signature's tensors.
    GraphDef converted = TestModels.convertedGraph(dir);
    Set<String> ops = TestModels.ops(converted);
    assertTrue(ops.contains("TftrtEngine"), ops.toString());
    for (String heavy : List.of("Conv2D", "MatMul")) assertFalse(ops.contains(heavy), ops.toString());
    SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(dir.resolve("saved_model.pb")));
    assertTrue(sm.getMetaGraphs(0).getSignatureDefMap().containsKey("serving_default"));
    assertTrue(onnx(dir.resolve(onnxFile)).getGraph().getNodeCount() > 0);

    JsonNode report = json(dir.resolve("report.json"));
    assertTrue(report.get("verification").get("passed").asBoolean(), report.toString());
    assertEquals(4, report.get("computeHeavyOps").get("inEngines").asInt());
  }

  @Test
  @DisplayName("run on the converted folder with -o out.npz")
  void runConverted() {
    Path npz = tmp.resolve("out.npz");
    Cli.Result r = Cli.run("run", demoConverted().toString(), "--random", "--shape", "image=2,16,16,3", "-o", npz.toString());
    assertExit(0, r);
    assertHasLineMatching("  logits: float32 \\[2, 10\\]  min .*", r.out());
    assertHasLine("wrote " + npz, r.out());
    Map<String, HostTensor> back = Npz.read(npz);
    assertEquals(Set.of("logits", "probabilities"), back.keySet());
    HostTensor p = back.get("probabilities");
    assertArrayEquals(new long[] {2, 10}, p.shape());
    for (int row = 0; row < 2; row++) {
      double sum = 0;
      for (int i = 0; i < 10; i++) sum += p.getDouble(row * 10 + i);
      assertEquals(1.0, sum, 1e-5);
    }
  }

  @Test
  @DisplayName("compare SAVEDMODEL OUTDIR --random exits 0")
  void compareOriginalWithConverted() {
    Cli.Result r = Cli.run("compare", demoModel.toString(), demoConverted().toString(), "--random");
    assertExit(0, r);
    assertHasLine("all outputs within tolerance", r.out());
    assertHasLineMatching("  probabilities +\\S+ +\\S+ +1\\.000000  (ok|identical)", r.out());
  }

  @Test
  @DisplayName("compare OUTDIR OUTDIR --backend tensorflow exits 0; the override reaches every engine")
  void compareConvertedWithTensorflowBackend() {
    org.junit.jupiter.api.Assumptions.assumeFalse(dev.tftrt.build.GpuDetection.detect().usable(), "a GPU is usable here");
    Path dir = demoConverted();
    Cli.Result r = Cli.run("compare", dir.toString(), dir.toString(), "--backend", "tensorflow", "--random");
    assertExit(0, r);
    assertHasLineMatching("  logits +0\\.000 +0\\.000 +1\\.000000  identical", r.out());
    // The same command with a backend that cannot run shows that --backend is applied.
    Cli.Result trt = Cli.run("compare", dir.toString(), dir.toString(), "--backend", "tensorrt", "--random");
    assertExit(2, trt);
    assertEquals("tftrt: engine node 'TftrtEngine_0' asks for the tensorrt backend, but "
        + dev.tftrt.build.GpuDetection.detect().problem() + "\n", trt.err());
    Cli.Result nosuch = Cli.run("run", dir.toString(), "--backend", "nosuch", "--random");
    assertExit(2, nosuch);
    assertEquals("tftrt: Unknown backend 'nosuch': use one of auto, tensorrt, onnxruntime, tensorflow.\n", nosuch.err());
  }

  // ------------------------------------------------------------------ convert options

  @Test
  @DisplayName("convert of DS_CNN_S with a WAV input: one engine, the audio front end left in TensorFlow")
  void convertDsCnnWithWav() throws IOException {
    Path model = dsCnn();
    Path wav = Files.write(tmp.resolve("clip.wav"), Wav.randomClip(16000, 1, 16000, 7));
    Path out = tmp.resolve("ds_cnn");
    Cli.Result r = Cli.run("convert", model.toString(), "-o", out.toString(), "--input", "wav_data=@" + wav);
    assertExit(0, r);
    assertEquals("", r.err());
    assertHasLineMatching("  nodes: \\d+ frozen, \\d+ optimized; 1 engine\\(s\\); 3 node\\(s\\) left in TensorFlow;"
        + " compute-heavy ops in engines: 10 of 10", r.out());
    JsonNode report = json(out.resolve("report.json"));
    assertEquals(1, report.get("engines").size(), report.toString());
    assertEquals(List.of("Mfcc:0"), texts(report.get("segments").get(0).get("inputs")));
    List<String> bad = unsupported(report);
    for (String u : DS_CNN_AUDIO_OPS) assertTrue(bad.contains(u), u + " missing from " + bad);
    Set<String> ops = TestModels.ops(TestModels.convertedGraph(out));
    assertTrue(ops.containsAll(List.of("DecodeWav", "AudioSpectrogram", "Mfcc", "TftrtEngine")), ops.toString());

    Cli.Result c = Cli.run("compare", model.toString(), out.toString(), "--input", "wav_data=@" + wav);
    assertExit(0, c);
    assertHasLine("all outputs within tolerance", c.out());
  }

  @Test
  @DisplayName("convert --input says which input the verification used")
  void convertReportsGivenInput() throws IOException {
    Path wav = Files.write(tmp.resolve("clip.wav"), Wav.randomClip(16000, 1, 16000, 7));
    Cli.Result r = Cli.run("convert", dsCnn().toString(), "-o", tmp.resolve("ds").toString(), "--input", "wav_data=@" + wav);
    assertExit(0, r);
    assertFalse(r.out().contains("random input"), r.out());
  }

  @Test
  @DisplayName("convert --min-segment-size 1000: no engine, still a valid model, and it replaces an existing OUTDIR")
  void convertWithoutEngines() throws IOException {
    // An earlier conversion (one engine) in OUTDIR, replaced because --overwrite says so.
    Path out = TestModels.copyTree(demoConverted(), tmp.resolve("conv"));
    Cli.Result r = Cli.run("convert", demoModel.toString(), "-o", out.toString(), "--min-segment-size", "1000",
        "--overwrite");
    assertExit(0, r);
    assertEquals("", r.err());
    assertHasLineMatching("  nodes: \\d+ frozen, \\d+ optimized; 0 engine\\(s\\); 16 node\\(s\\) left in TensorFlow;"
        + " compute-heavy ops in engines: 0 of 4", r.out());
    assertFalse(r.out().contains("TftrtEngine"), r.out());
    assertEquals(List.of("conv"), TestModels.listing(tmp));
    assertFalse(Files.exists(out.resolve("payloads")), "no engine, no payloads");
    assertEquals(0, json(out.resolve("tftrt.json")).get("engines").size());
    JsonNode report = json(out.resolve("report.json"));
    assertEquals(0, report.get("segments").size());
    assertEquals(1, report.get("smallClustersLeftInTensorFlow").asInt(), report.toString());

    // The graph is the optimized original, with no engine node, and still runs and matches.
    GraphDef converted = TestModels.convertedGraph(out);
    assertFalse(TestModels.ops(converted).contains("TftrtEngine"));
    assertTrue(TestModels.ops(converted).containsAll(List.of("Conv2D", "MatMul")));
    assertEquals(report.get("nodesOptimized").asInt(), converted.getNodeCount());
    Cli.Result c = Cli.run("compare", demoModel.toString(), out.toString(), "--random");
    assertExit(0, c);
    assertHasLine("all outputs within tolerance", c.out());
  }

  @Test
  @DisplayName("convert --exclude-ops Conv2D keeps every Conv2D in TensorFlow")
  void convertExcludingConv2D() throws IOException {
    Path out = tmp.resolve("conv");
    Cli.Result r = Cli.run("convert", demoModel.toString(), "-o", out.toString(), "--exclude-ops", "Conv2D");
    assertExit(0, r);
    JsonNode report = json(out.resolve("report.json"));
    List<String> bad = unsupported(report);
    assertTrue(bad.contains("block1/Conv2d (Conv2D): its op Conv2D was excluded with --exclude-ops."), bad.toString());
    assertTrue(bad.contains("block2/Conv2d (Conv2D): its op Conv2D was excluded with --exclude-ops."), bad.toString());
    for (JsonNode s : report.get("segments")) assertFalse(s.get("ops").has("Conv2D"), s.toString());
    assertTrue(report.get("segments").size() > 0, report.toString());
    assertEquals(2, report.get("computeHeavyOps").get("inEngines").asInt(), report.toString());
    GraphDef converted = TestModels.convertedGraph(out);
    assertEquals(2, converted.getNodeList().stream().filter(n -> n.getOp().equals("Conv2D")).count());
  }

  @Test
  @DisplayName("convert --backend nosuch exits 2 with one sentence, nothing written")
  void convertUnknownBackend() {
    Cli.Result r = Cli.run("convert", demoModel.toString(), "-o", tmp.resolve("c").toString(), "--backend", "nosuch");
    assertExit(2, r);
    assertEquals("tftrt: Unknown backend 'nosuch': use one of auto, tensorrt, onnxruntime, tensorflow.\n", r.err());
    assertEquals(List.of(), TestModels.listing(tmp));
  }

  @Test
  @DisplayName("convert --precision int8 without data, an unknown precision, a bad budget: exit 2, one sentence, nothing written")
  void convertRefusedPrecisions() {
    String[][] cases = {
        {"--precision", "int8"},
        {"--precision", "fp8"},
        {"--precision", "fp16", "--accuracy-budget", "1.5"}};
    String[] said = {
        "tftrt: --precision int8 needs --calibration-data PATH (or a --calibration-cache FILE written by an earlier run).\n",
        "tftrt: Unknown precision 'fp8': use one of fp32, fp16, int8.\n",
        "tftrt: --accuracy-budget 1.5 is not a cosine in (0, 1].\n"};
    for (int i = 0; i < cases.length; i++) {
      List<String> args = new java.util.ArrayList<>(List.of("convert", demoModel.toString(), "-o", tmp.resolve("c").toString()));
      args.addAll(List.of(cases[i]));
      Cli.Result r = Cli.run(args.toArray(new String[0]));
      assertExit(2, r);
      assertEquals(said[i], r.err());
      assertEquals(List.of(), TestModels.listing(tmp));
    }
  }

  @Test
  @DisplayName("a failing convert (--backend tensorrt) leaves an existing OUTDIR intact, --overwrite or not")
  void failedConvertKeepsOldFolder() throws IOException {
    org.junit.jupiter.api.Assumptions.assumeFalse(dev.tftrt.build.GpuDetection.detect().usable(), "a GPU is usable here");
    Path out = TestModels.copyTree(demoConverted(), tmp.resolve("conv"));
    String before = OutputSafetyCliTest.treeHash(out);
    Cli.Result r = Cli.run("convert", demoModel.toString(), "-o", out.toString(), "--backend", "tensorrt",
        "--overwrite");
    assertExit(2, r);
    assertEquals("tftrt: engine node 'TftrtEngine_0' asks for the tensorrt backend, but "
        + dev.tftrt.build.GpuDetection.detect().problem() + "\n", r.err());
    assertEquals(List.of("conv"), TestModels.listing(tmp)); // no hidden .conv.*.tmp/.old left
    assertEquals(before, OutputSafetyCliTest.treeHash(out));

    // A folder of the user's files is refused before any work.
    Path docs = Files.createDirectories(tmp.resolve("docs/sub"));
    Files.writeString(docs.resolve("nested.txt"), "nested");
    Cli.Result d = Cli.run("convert", demoModel.toString(), "-o", docs.getParent().toString(), "--overwrite");
    assertExit(2, d);
    assertEquals("tftrt: cannot write " + docs.getParent() + ": it is a folder of files tftrt did not write;"
        + " name a new or empty folder.\n", d.err());
    assertEquals("nested", Files.readString(docs.resolve("nested.txt")));
  }

  @Test
  @DisplayName("convert of a model path that does not exist exits 2, nothing written")
  void convertMissingModel() {
    Path missing = tmp.resolve("no_model");
    Cli.Result r = Cli.run("convert", missing.toString(), "-o", tmp.resolve("c").toString());
    assertExit(2, r);
    assertEquals("tftrt: " + missing + " does not exist.\n", r.err());
    assertEquals("", r.out());
    assertEquals(List.of(), TestModels.listing(tmp));
  }
}
