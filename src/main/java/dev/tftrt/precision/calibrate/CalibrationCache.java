package dev.tftrt.precision.calibrate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tftrt.TftrtException;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.util.AtomicFiles;
import dev.tftrt.util.InputFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The calibration cache file: for each segment, tensor → amax and scale, with the calibrator,
 * the SHA-256 of the data fed and of the FP32 segment, so a later conversion reuses the scales
 * without the data and a cache made for another segment is refused. Written in a fixed layout,
 * so read and written again it is the same bytes.
 */
public final class CalibrationCache {
  public static final String FORMAT = "tftrt-calibration";
  public static final int VERSION = 1;
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private CalibrationCache() {}

  public static byte[] toBytes(List<TensorRanges> segments) {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("version", VERSION);
    ArrayNode arr = root.putArray("segments");
    for (TensorRanges r : segments) {
      ObjectNode s = arr.addObject();
      s.put("segment_sha256", r.segmentSha256());
      s.put("calibrator", r.calibrator());
      s.put("data_sha256", r.dataSha256());
      s.put("samples", r.samples());
      ObjectNode t = s.putObject("tensors");
      for (Map.Entry<String, Double> e : r.amax().entrySet()) {
        ObjectNode v = t.putObject(e.getKey());
        v.put("amax", e.getValue());
        v.put("scale", e.getValue() / TensorRanges.QMAX);
      }
    }
    try {
      return (JSON.writeValueAsString(root) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes the cache through tftrt's atomic writer (nothing half-written). */
  public static void write(Path file, List<TensorRanges> segments) {
    AtomicFiles.write(file, toBytes(segments));
  }

  public static List<TensorRanges> read(Path file) {
    return parse(InputFiles.read(file, 1L << 30, "a calibration cache"), file.toString());
  }

  public static List<TensorRanges> parse(byte[] bytes, String what) {
    JsonNode root;
    try {
      root = JSON.readTree(bytes);
    } catch (java.io.IOException e) {
      throw new TftrtException("Calibration cache " + what + " is not valid JSON.");
    }
    if (root == null || !root.isObject() || !FORMAT.equals(root.path("format").asText(null))) {
      throw new TftrtException("Calibration cache " + what + " is not a tftrt calibration cache (no format \"" + FORMAT + "\").");
    }
    if (root.path("version").asInt(-1) != VERSION) {
      throw new TftrtException("Calibration cache " + what + " has version " + root.path("version")
          + "; this tftrt reads version " + VERSION + ".");
    }
    JsonNode segs = root.path("segments");
    if (!segs.isArray()) throw new TftrtException("Calibration cache " + what + " has no list of segments.");
    List<TensorRanges> out = new ArrayList<>();
    for (JsonNode s : segs) {
      String seg = text(s, "segment_sha256", what);
      Map<String, Double> amax = new LinkedHashMap<>();
      JsonNode tensors = s.path("tensors");
      if (!tensors.isObject()) throw new TftrtException("Calibration cache " + what + " has a segment without tensors.");
      for (Iterator<Map.Entry<String, JsonNode>> it = tensors.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        JsonNode a = e.getValue().path("amax");
        JsonNode sc = e.getValue().path("scale");
        if (!a.isNumber() || !(a.asDouble() >= 0) || Double.isInfinite(a.asDouble()) || !sc.isNumber()) {
          throw new TftrtException("Calibration cache " + what + " gives tensor " + e.getKey()
              + " no finite non-negative amax and scale.");
        }
        if (sc.asDouble() != a.asDouble() / TensorRanges.QMAX) {
          throw new TftrtException("Calibration cache " + what + " gives tensor " + e.getKey() + " a scale "
              + sc.asDouble() + " that is not its amax / 127.");
        }
        amax.put(e.getKey(), a.asDouble());
      }
      JsonNode n = s.path("samples");
      if (!n.canConvertToLong() || n.asLong() < 0) throw new TftrtException("Calibration cache " + what + " has no sample count.");
      out.add(new TensorRanges(text(s, "calibrator", what), text(s, "data_sha256", what), seg, n.asLong(), amax));
    }
    return out;
  }

  private static String text(JsonNode s, String key, String what) {
    JsonNode v = s.path(key);
    if (!v.isTextual()) throw new TftrtException("Calibration cache " + what + " has a segment without " + key + ".");
    return v.asText();
  }

  /** The cached ranges for this segment; one sentence when the cache was made for others. */
  public static TensorRanges forSegment(List<TensorRanges> cache, ModelProto segment, String what, String calibrator) {
    String sha = Calibration.segmentSha256(segment);
    for (TensorRanges r : cache) {
      if (r.segmentSha256().equals(sha)) {
        if (calibrator != null && !calibrator.equals(r.calibrator())) {
          throw new TftrtException("Calibration cache " + what + " was made with the " + r.calibrator()
              + " calibrator, not " + calibrator + "; calibrate again or drop --calibrator.");
        }
        return r;
      }
    }
    throw new TftrtException("Calibration cache " + what + " was made for another segment (it holds "
        + cache.size() + " segment" + (cache.size() == 1 ? "" : "s") + ", none with this one's SHA-256 "
        + sha.substring(0, 12) + "...); calibrate again without it.");
  }
}
