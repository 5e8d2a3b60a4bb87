package dev.tftrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tftrt.bench.BenchPlot;
import dev.tftrt.bench.DeviceFileProbe;
import dev.tftrt.model.LoadOptions;
import dev.tftrt.pipeline.ConvertJob;
import dev.tftrt.segment.Segmenter;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.Npy;
import dev.tftrt.testing.Cli;
import dev.tftrt.testing.TestModels;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tftrt bench}: DeepLab converted (once, at 65x65 to keep it quick) against its original,
 * with the table, the JSON and the chart; several batch sizes on the MLP; bad input refused.
 */
class BenchCliTest {
  @TempDir static Path shared;
  @TempDir Path tmp;
  private static Path deeplabConverted;
  private static final String DEEPLAB = "deeplab-mnv2-portrait/frozen_inference_graph.pb";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** DeepLab converted at 1x65x65x3, once for the class. */
  private static synchronized Path deeplab() {
    Path model = TestModels.shared(DEEPLAB);
    if (deeplabConverted == null) {
      Path out = shared.resolve("deeplab65");
      ConvertJob.run(ConvertJob.builder(LoadOptions.of(model), out)
          .shapes(Map.of("ImageTensor", new long[] {1, 65, 65, 3}))
          .backend(dev.tftrt.runtime.backend.Backend.ONNXRUNTIME).build());
      deeplabConverted = out;
    }
    return deeplabConverted;
  }

  @Test
  void convertedDeepLabAgainstTheOriginalGivesTableJsonAndPlot() throws Exception {
    Path converted = deeplab();
    Path original = TestModels.shared(DEEPLAB);
    Path json = tmp.resolve("bench.json");
    Path png = tmp.resolve("bench.png");
    Cli.Result r = Cli.run("bench", converted.toString(), "--vs", original.toString(), "--shape", "ImageTensor=1,65,65,3",
        "--warmup", "2", "--iterations", "6", "--json", json.toString(), "--plot", png.toString());
    assertEquals(0, r.code(), r.toString());
    String out = r.out();
    DeviceFileProbe gpu = DeviceFileProbe.probe();
    assertTrue(out.startsWith("tftrt bench: " + (gpu.available() ? "GPU: " : "CPU only: no GPU (" + gpu.reason() + ")")), out);
    assertTrue(out.contains("model:    " + converted + " (converted, engines on onnxruntime"), out);
    assertTrue(out.contains("baseline: " + original + " (tensorflow)"), out);
    assertTrue(out.contains("inputs: ImageTensor [1, 65, 65, 3]"), out);
    assertTrue(out.lines().anyMatch(l -> l.matches("model +- +6( +[0-9.]+){8}")), out);
    assertTrue(out.lines().anyMatch(l -> l.matches("baseline +- +6( +[0-9.]+){8}")), out);
    assertTrue(out.contains("shapes as given: speed-up "), out);
    assertTrue(out.contains("within rtol 0.00100000, atol 0.000100000"), out);
    assertFalse(out.contains("H2D"), "no backend here times GPU stages:\n" + out);

    JsonNode j = JSON.readTree(json.toFile());
    assertEquals("tftrt-bench", j.get("format").asText());
    assertEquals(Runtime.getRuntime().availableProcessors(), j.get("machine").get("cores").asInt());
    assertEquals(gpu.available(), j.get("machine").get("gpu").asBoolean());
    assertFalse(j.get("versions").get("tensorflow").asText().isBlank());
    assertEquals(2, j.get("models").size());
    for (JsonNode m : j.get("models")) {
      JsonNode b = m.get("batches").get(0);
      assertEquals(6, b.get("calls").asInt());
      assertEquals(6, b.get("latenciesMs").size());
      JsonNode l = b.get("latencyMs");
      double prev = 0;
      for (String k : new String[] {"min", "median", "p90", "p95", "p99", "max"}) {
        double v = l.get(k).asDouble();
        assertTrue(v >= prev && v > 0, k + " " + v + " after " + prev + " in " + l);
        prev = v;
      }
      for (JsonNode v : b.get("latenciesMs")) {
        assertTrue(v.asDouble() >= l.get("min").asDouble() && v.asDouble() <= l.get("max").asDouble(), l.toString());
      }
      // DeepLab at 65x65 takes milliseconds, not microseconds or minutes, on any machine this runs on.
      assertTrue(l.get("median").asDouble() > 0.5 && l.get("median").asDouble() < 60_000, l.toString());
      assertEquals(6 / b.get("seconds").asDouble(), b.get("samplesPerSecond").asDouble(), 1e-6 * b.get("samplesPerSecond").asDouble());
      assertTrue(b.get("seconds").asDouble() * 1000 >= 6 * l.get("min").asDouble() * 0.99, b.toString());
    }
    JsonNode c = j.get("comparison").get(0);
    double ratio = j.get("models").get(0).get("batches").get(0).get("samplesPerSecond").asDouble()
        / j.get("models").get(1).get("batches").get(0).get("samplesPerSecond").asDouble();
    assertEquals(ratio, c.get("speedup").asDouble(), 1e-9);
    assertTrue(c.get("withinTolerance").asBoolean(), c.toString());
    for (JsonNode o : c.get("outputs")) {
      assertTrue(o.get("cosine").asDouble() > 0.9999, o.toString());
      assertTrue(o.get("maxAbsDiff").asDouble() < 1e-3, o.toString());
    }

    BufferedImage image = ImageIO.read(png.toFile());
    assertEquals(BenchPlot.WIDTH, image.getWidth());
    assertEquals(BenchPlot.HEIGHT, image.getHeight());
    assertTrue(colours(image) > 10, "a chart, not a blank image");
  }

  @Test
  void severalBatchSizesRepeatAGivenInputAndAgreeWithItself() throws Exception {
    Path mlp = TestModels.shared("mlp-fc-layers/frozen.pb");
    Path x = tmp.resolve("x.npy");
    float[] v = new float[784];
    for (int i = 0; i < v.length; i++) v[i] = (i % 17) / 17f;
    Npy.write(HostTensor.ofFloats(new long[] {1, 784}, v), x);
    Path json = tmp.resolve("mlp.json");
    Cli.Result r = Cli.run("bench", mlp.toString(), "--vs", mlp.toString(), "--input", "X=" + x, "--batch", "1,4",
        "--warmup", "1", "--iterations", "3", "--threads", "2", "--json", json.toString());
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().contains("inputs at batch 4: X [4, 784]"), r.out());
    assertTrue(r.out().contains("batch 4: speed-up "), r.out());
    JsonNode j = JSON.readTree(json.toFile());
    assertEquals("[1,4]", j.get("options").get("batches").toString());
    JsonNode b4 = j.get("models").get(0).get("batches").get(1);
    assertEquals(4, b4.get("batch").asInt());
    assertEquals("[4, 784]", b4.get("inputShapes").get("X").asText());
    assertEquals(4 * b4.get("callsPerSecond").asDouble(), b4.get("samplesPerSecond").asDouble(), 1e-6 * b4.get("samplesPerSecond").asDouble());
    for (JsonNode o : j.get("comparison").get(1).get("outputs")) assertTrue(o.get("identical").asBoolean(), o.toString());
  }

  @Test
  void aBatchOnAFixedBatchModelIsOneSentenceAndWritesNothing() {
    Path original = TestModels.shared(DEEPLAB);
    Path json = tmp.resolve("b.json");
    Cli.Result r = Cli.run("bench", original.toString(), "--batch", "1,8", "--shape", "ImageTensor=1,65,65,3",
        "--json", json.toString());
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: input 'ImageTensor' of " + original + " has a fixed batch of 1 (shape [1, ?, ?, 3]),"
        + " so it cannot be benchmarked at --batch 8.", r.err().strip());
    assertFalse(Files.exists(json));
    assertEquals("", r.out());
  }

  @Test
  void aMissingModelIsOneSentence() {
    Path missing = tmp.resolve("no-such-model.pb");
    Cli.Result r = Cli.run("bench", missing.toString(), "--iterations", "1");
    assertEquals(2, r.code(), r.toString());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains(missing.toString()), r.err());
  }

  @Test
  void anExistingJsonIsKeptWithoutOverwriteAndBothLimitsAreRefused() throws Exception {
    Path mlp = TestModels.shared("mlp-fc-layers/frozen.pb");
    Path json = Files.writeString(tmp.resolve("old.json"), "mine");
    Cli.Result r = Cli.run("bench", mlp.toString(), "--iterations", "1", "--json", json.toString());
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: " + json + " already exists: give --overwrite to replace it.", r.err().strip());
    assertEquals("mine", Files.readString(json));
    Cli.Result both = Cli.run("bench", mlp.toString(), "--iterations", "3", "--seconds", "1");
    assertEquals(2, both.code(), both.toString());
    assertEquals("tftrt: --iterations and --seconds both given: give one.", both.err().strip());
    Cli.Result same = Cli.run("bench", mlp.toString(), "--json", json.toString(), "--plot", json.toString(), "--overwrite");
    assertEquals(2, same.code(), same.toString());
    assertEquals("tftrt: --json and --plot both name " + json + ": give two files.", same.err().strip());
    Cli.Result self = Cli.run("bench", mlp.toString(), "--json", mlp.toString(), "--overwrite");
    assertEquals(2, self.code(), self.toString());
    assertTrue(self.err().contains("it is the input"), self.err());
  }

  private static int colours(BufferedImage image) {
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    for (int y = 0; y < image.getHeight(); y += 4) {
      for (int x = 0; x < image.getWidth(); x += 4) seen.add(image.getRGB(x, y));
    }
    return seen.size();
  }
}
