package dev.tftrt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.tensor.Npz;
import dev.tftrt.testing.Cli;
import dev.tftrt.testing.FashionMnist;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code convert --precision int8 --calibration-data ...} end to end on the trained Fashion-MNIST
 * classifier: the converted model runs on ONNX Runtime (Q/DQ are real ops there), and the accuracy
 * its report gives is what {@code tftrt compare} measures on the same held-out samples.
 */
class ConvertInt8CliTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int ROWS = 400;
  static final int HELD_OUT = 64; // a fifth of 400 is 80, capped at 64: the last 64 rows
  static Path model;
  static FashionMnist.Split train;

  @TempDir static Path dir;

  @BeforeAll
  static void setUp() {
    model = FashionMnist.model();
    train = FashionMnist.train();
  }

  static Path npz(String name, Map<String, HostTensor> arrays) {
    Path p = dir.resolve(name);
    Npz.write(arrays, p);
    return p;
  }

  @Test
  void reportIsWhatCompareMeasuresOnTheHeldOutSamples() throws Exception {
    Path calib = npz("calib.npz", Map.of("image", train.batch(0, ROWS)));
    Path out = dir.resolve("int8");
    Path cache = dir.resolve("ranges.json");
    Cli.Result r = Cli.run("convert", model.toString(), "-o", out.toString(), "--precision", "int8",
        "--calibration-data", calib.toString(), "--calibrator", "entropy", "--calibration-cache", cache.toString());
    assertEquals(0, r.code(), r.toString());
    assertTrue(Files.isRegularFile(cache), "the cache is written after calibrating");
    JsonNode rep = JSON.readTree(dir.resolve("int8/report.json").toFile());
    assertEquals(ROWS - HELD_OUT, rep.at("/calibration/calibratedSamples").asLong());
    assertEquals(HELD_OUT, rep.at("/calibration/heldOutSamples").asLong());
    // every conv and matmul of the engine is an INT8 op
    long int8 = 0;
    for (JsonNode e : rep.get("engines")) {
      for (JsonNode n : e.at("/ops/nodes")) {
        String op = n.get("op").asText();
        if (op.equals("Conv") || op.equals("MatMul")) {
          assertEquals("int8", n.get("precision").asText(), n.toString());
          int8++;
        }
      }
    }
    assertEquals(4, int8);
    JsonNode acc = rep.at("/accuracy/outputs/0");
    assertTrue(rep.at("/accuracy/against").asText().contains("held out"), rep.at("/accuracy").toString());
    assertEquals(1, acc.get("samples").asLong(), "the held-out rows are one batch, as compare feeds them");
    double agreement = acc.get("agreement").asDouble();
    System.out.printf("INT8 convert (entropy): agreement %.4f, cosine %.6f on %d held-out samples, calibration %d ms%n",
        agreement, acc.get("cosine").asDouble(), HELD_OUT, rep.at("/calibration/millis").asLong());
    assertTrue(agreement >= 0.95, "top-1 agreement " + agreement);

    // compare re-measures on the very samples the report says it was measured on
    Path held = npz("held.npz", Map.of("image", train.batch(ROWS - HELD_OUT, HELD_OUT)));
    Cli.Result c = Cli.run("compare", model.toString(), out.toString(), "--input", held.toString(),
        "--rtol", "1e9", "--atol", "1e9");
    assertEquals(0, c.code(), c.toString());
    Matcher m = Pattern.compile("(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+(\\S+)\\s+ok").matcher(c.out());
    assertTrue(m.find(), c.out());
    assertEquals(String.format(Locale.ROOT, "%.4g", acc.get("maxAbs").asDouble()), m.group(2), c.out());
    assertEquals(String.format(Locale.ROOT, "%.4g", acc.get("maxRel").asDouble()), m.group(3), c.out());
    assertEquals(String.format(Locale.ROOT, "%.6f", acc.get("cosine").asDouble()), m.group(4), c.out());

    Cli.Result inspect = Cli.run("inspect", out.toString());
    assertEquals(0, inspect.code(), inspect.toString());
    assertTrue(inspect.out().contains("| int8 | fed by DequantizeLinear"), inspect.out());
    assertTrue(inspect.out().contains("## INT8 calibration"), inspect.out());

    // with the cache (now read) and the same data, the same engines come out byte for byte
    Path again = dir.resolve("int8-again");
    Cli.Result r2 = Cli.run("convert", model.toString(), "-o", again.toString(), "--precision", "int8",
        "--calibration-data", calib.toString(), "--calibrator", "entropy", "--calibration-cache", cache.toString());
    assertEquals(0, r2.code(), r2.toString());
    assertTrue(r2.out().contains("INT8 ranges read from"), r2.out());
    assertArrayEquals(payloads(out), payloads(again));
  }

  static byte[] payloads(Path converted) throws Exception {
    try (Stream<Path> s = Files.list(converted.resolve("payloads"))) {
      Path onnx = s.filter(p -> p.toString().endsWith(".onnx")).findFirst().orElseThrow();
      return Files.readAllBytes(onnx);
    }
  }

  @Test
  void aCacheAloneConvertsWithoutData() throws Exception {
    Path calib = npz("calib2.npz", Map.of("image", train.batch(1000, 100)));
    Path cache = dir.resolve("alone.json");
    Cli.Result r = Cli.run("convert", model.toString(), "-o", dir.resolve("a1").toString(), "--precision", "int8",
        "--calibration-data", calib.toString(), "--calibration-cache", cache.toString(), "--int8-rest", "fp32");
    assertEquals(0, r.code(), r.toString());
    Path a2 = dir.resolve("a2");
    Cli.Result r2 = Cli.run("convert", model.toString(), "-o", a2.toString(), "--precision", "int8",
        "--calibration-cache", cache.toString(), "--int8-rest", "fp32");
    // random inputs are no check of ranges made for real data: unverified, nothing written
    assertEquals(1, r2.code(), r2.toString());
    assertTrue(r2.err().contains("INT8 ranges fit the calibration data"), r2.toString());
    assertFalse(Files.exists(a2));
    r2 = Cli.run("convert", model.toString(), "-o", a2.toString(), "--precision", "int8",
        "--calibration-cache", cache.toString(), "--int8-rest", "fp32", "--allow-unverified");
    assertEquals(0, r2.code(), r2.toString());
    assertTrue(r2.out().contains("no held-out data"), r2.out());
    assertArrayEquals(payloads(dir.resolve("a1")), payloads(dir.resolve("a2")));
  }

  @Test
  void anUnreadableImageIsOneSentenceAndNothingIsWritten() throws Exception {
    Path images = Files.createDirectories(dir.resolve("images"));
    Files.write(images.resolve("a.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
    Path out = dir.resolve("img");
    Path cache = dir.resolve("img.json");
    Cli.Result r = Cli.run("convert", model.toString(), "-o", out.toString(), "--precision", "int8",
        "--calibration-data", images.toString(), "--calibration-cache", cache.toString());
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: Calibration image " + images.resolve("a.png") + " is not a PNG or JPEG image that can be decoded.",
        r.firstErrLine());
    assertFalse(Files.exists(out));
    assertFalse(Files.exists(cache));
  }

  @Test
  void int8WithoutDataOrCacheIsOneSentenceAndWritesNothing() {
    Path out = dir.resolve("none");
    Cli.Result r = Cli.run("convert", model.toString(), "-o", out.toString(), "--precision", "int8");
    assertEquals(2, r.code(), r.toString());
    assertEquals("tftrt: --precision int8 needs --calibration-data PATH (or a --calibration-cache FILE written by an"
        + " earlier run).", r.firstErrLine());
    assertFalse(Files.exists(out));
    Cli.Result c = Cli.run("convert", model.toString(), "-o", out.toString(), "--calibration-data", "x.npz");
    assertEquals(2, c.code(), c.toString());
    assertEquals("tftrt: --calibration-data is for --precision int8 only.", c.firstErrLine());
  }

  /** With no engine nothing is INT8: the conversion is checked on random inputs, as for FP32. */
  @Test
  void withNoEngineTheCheckRunsOnRandomInputs() throws Exception {
    Path halfPlusTwo = dev.tftrt.testing.TestModels.shared("half_plus_two_tf1");
    float[] xs = new float[64];
    for (int i = 0; i < xs.length; i++) xs[i] = i * 0.1f;
    Path calib = npz("x.npz", Map.of("x", HostTensor.ofFloats(new long[] {64, 1}, xs)));
    Path out = dir.resolve("int8-no-engine");
    Cli.Result r = Cli.run("convert", halfPlusTwo.toString(), "-o", out.toString(), "--precision", "int8",
        "--max-engines", "0", "--calibration-data", calib.toString());
    assertEquals(0, r.code(), r.toString());
    JsonNode rep = JSON.readTree(out.resolve("report.json").toFile());
    assertEquals(0, rep.get("engines").size());
    assertTrue(rep.at("/verification/passed").asBoolean(), rep.toString());
  }

  /** Too few rows to hold any out: the refusal says so, not that no data was given. */
  @Test
  void tooFewRowsToHoldOutSaySo() {
    Path calib = npz("three.npz", Map.of("image", train.batch(0, 3)));
    Path out = dir.resolve("int8-three-rows");
    Cli.Result r = Cli.run("convert", model.toString(), "-o", out.toString(), "--precision", "int8",
        "--calibration-data", calib.toString());
    assertEquals(1, r.code(), r.toString());
    assertTrue(r.firstErrLine().contains("the calibration data's 3 rows are too few to hold any out"), r.toString());
    assertFalse(Files.exists(out));
  }
}
