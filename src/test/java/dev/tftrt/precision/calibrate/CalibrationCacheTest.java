package dev.tftrt.precision.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tftrt.TftrtException;
import dev.tftrt.convert.onnx.GraphProto;
import dev.tftrt.convert.onnx.ModelProto;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache file: a fixed layout that reads back to the same bytes, and refuses what is not its segment's. */
class CalibrationCacheTest {
  static ModelProto segment(String name) {
    return ModelProto.newBuilder().setGraph(GraphProto.newBuilder().setName(name)).build();
  }

  static TensorRanges ranges(ModelProto seg) {
    Map<String, Double> amax = new LinkedHashMap<>();
    amax.put("conv:0", 3.0000000000000004);
    amax.put("x:0", 0.1);
    amax.put("zeros:0", 0.0);
    return new TensorRanges("entropy", "ab".repeat(32), Calibration.segmentSha256(seg), 500, amax);
  }

  @Test
  void roundTripsByteForByte(@TempDir Path dir) throws Exception {
    ModelProto a = segment("a");
    Path f = dir.resolve("cache.json");
    CalibrationCache.write(f, List.of(ranges(a), ranges(segment("b"))));
    byte[] bytes = Files.readAllBytes(f);
    List<TensorRanges> back = CalibrationCache.read(f);
    assertEquals(List.of(ranges(a), ranges(segment("b"))), back);
    assertArrayEquals(bytes, CalibrationCache.toBytes(back));
    String json = new String(bytes, StandardCharsets.UTF_8);
    assertTrue(json.contains("\"scale\" : " + (3.0000000000000004 / 127)), json);
    assertEquals(0.1 / 127, CalibrationCache.forSegment(back, a, f.toString(), "entropy").scale("x:0"));
  }

  @Test
  void aCacheFromAnotherSegmentIsRefused() {
    List<TensorRanges> cache = List.of(ranges(segment("a")));
    String m = assertThrows(TftrtException.class,
        () -> CalibrationCache.forSegment(cache, segment("other"), "c.json", null)).getMessage();
    assertTrue(m.startsWith("Calibration cache c.json was made for another segment (it holds 1 segment, none with this one's SHA-256 "), m);
    assertFalse(m.contains("\n"));
    assertEquals("Calibration cache c.json was made with the entropy calibrator, not max; calibrate again or drop --calibrator.",
        assertThrows(TftrtException.class, () -> CalibrationCache.forSegment(cache, segment("a"), "c.json", "max")).getMessage());
  }

  /** Ranges clipped at another percentile are other ranges: the cache says which it holds. */
  @Test
  void aCacheFromAnotherPercentileIsRefused() {
    ModelProto a = segment("a");
    TensorRanges r = ranges(a);
    List<TensorRanges> cache = List.of(new TensorRanges(Calibrator.PERCENTILE.spec(99.9), r.dataSha256(), r.segmentSha256(),
        r.samples(), r.amax()));
    String m = assertThrows(TftrtException.class,
        () -> CalibrationCache.forSegment(cache, a, "c.json", Calibrator.PERCENTILE.spec(99.99))).getMessage();
    assertEquals("Calibration cache c.json was made with the percentile:99.9 calibrator, not percentile:99.99;"
        + " calibrate again or drop --calibrator.", m);
    assertEquals(0.1 / 127, CalibrationCache.forSegment(cache, a, "c.json",
        Calibrator.PERCENTILE.spec(99.9)).scale("x:0"));
  }

  @Test
  void corruptCachesAreOneSentence() {
    assertEquals("Calibration cache c is not valid JSON.", parseError("{"));
    assertEquals("Calibration cache c is not a tftrt calibration cache (no format \"tftrt-calibration\").", parseError("{}"));
    String good = new String(CalibrationCache.toBytes(List.of(ranges(segment("a")))), StandardCharsets.UTF_8);
    assertEquals("Calibration cache c gives tensor x:0 a scale 1.0 that is not its amax / 127.",
        parseError(good.replace("\"scale\" : " + (0.1 / 127), "\"scale\" : 1.0")));
    assertEquals("Calibration cache c gives tensor x:0 no finite non-negative amax and scale.",
        parseError(good.replace("\"amax\" : 0.1", "\"amax\" : -0.1")));
  }

  private static String parseError(String json) {
    return assertThrows(TftrtException.class,
        () -> CalibrationCache.parse(json.getBytes(StandardCharsets.UTF_8), "c")).getMessage();
  }
}
