package dev.tftrt.pipeline;

import dev.tftrt.precision.calibrate.TensorRanges;
import dev.tftrt.precision.int8.Int8Options;
import dev.tftrt.tensor.HostTensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What INT8 calibration gave a conversion: each engine's ranges (calibrated, or read from a
 * cache), the rows of the data held out to measure accuracy on, and what the report says of it.
 */
public record Int8Calibrated(Int8Options options, List<TensorRanges> ranges, SegmentCalibration.Result pass,
    String data, boolean fromCache, Path writeCache) {

  /** The held-out rows as batches of model inputs (empty when there are none). */
  public List<Map<String, HostTensor>> heldOut() {
    return pass == null ? List.of() : pass.heldOut();
  }

  public long heldOutRows() {
    return pass == null ? 0 : pass.heldOutRows();
  }

  /** Rows calibrated on (0 when the ranges came from a cache). */
  public long calibratedRows() {
    return pass == null || fromCache ? 0 : pass.calibratedRows();
  }

  public long millis() {
    return pass == null ? 0 : pass.millis();
  }

  List<Map<String, HostTensor>> heldOutOf(int engine) {
    return pass == null ? List.of() : pass.heldOutPerSegment().get(engine);
  }

  /** Which samples accuracy is measured on, in the report's words. */
  public String heldOutText() {
    long n = heldOutRows();
    if (n == 0) return "no held-out data";
    return "the last " + n + " sample(s) of " + data + ", held out from calibration";
  }

  Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("calibrator", options.calibrator().spec(options.percentile()));
    m.put("percentile", options.percentile());
    m.put("rest", options.rest().label());
    if (data != null) m.put("data", data);
    m.put("fromCache", fromCache ? String.valueOf(options.calibrationCache()) : null);
    if (writeCache != null) m.put("cacheWritten", writeCache.toString());
    m.put("calibratedSamples", calibratedRows());
    m.put("heldOutSamples", heldOutRows());
    m.put("heldOut", heldOutText());
    m.put("millis", millis());
    m.put("tensors", ranges.stream().mapToInt(r -> r.amax().size()).sum());
    return m;
  }

  String markdown() {
    StringBuilder b = new StringBuilder("\n## INT8 calibration\n\n");
    if (fromCache) b.append("Ranges read from the calibration cache ").append(options.calibrationCache()).append(".\n");
    else b.append(String.format("Calibrator %s%s on %d sample(s) of %s in %.1f s.%n", options.calibrator().label(),
        options.calibrator().label().equals("percentile") ? " " + options.percentile() : "", calibratedRows(), data,
        millis() / 1e3));
    b.append("Accuracy measured on ").append(heldOutText()).append("; the rest in ").append(options.rest().label())
        .append(".");
    if (writeCache != null) b.append(" Cache written to ").append(writeCache).append(".");
    return b.append("\n").toString();
  }
}
