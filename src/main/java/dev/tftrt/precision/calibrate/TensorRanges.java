package dev.tftrt.precision.calibrate;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What calibration found for one segment: each calibrated tensor's amax (scale = amax / 127),
 * with what produced it: the calibrator, a SHA-256 of the data fed and of the FP32 segment. A
 * tensor whose amax is 0 (only zeros seen) is kept but gets no Q/DQ.
 */
public record TensorRanges(String calibrator, String dataSha256, String segmentSha256, long samples,
    Map<String, Double> amax) {

  public static final double QMAX = 127.0;

  public TensorRanges {
    amax = Collections.unmodifiableMap(new LinkedHashMap<>(amax));
  }

  /** Symmetric int8 scale of a tensor, or 0 when it was not calibrated or saw only zeros. */
  public double scale(String tensor) {
    Double a = amax.get(tensor);
    return a == null ? 0 : a / QMAX;
  }
}
