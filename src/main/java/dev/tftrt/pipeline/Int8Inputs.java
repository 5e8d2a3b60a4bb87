package dev.tftrt.pipeline;

import dev.tftrt.TftrtException;
import dev.tftrt.precision.calibrate.CalibrationCache;
import dev.tftrt.precision.calibrate.CalibrationData;
import dev.tftrt.precision.calibrate.Calibrator;
import dev.tftrt.precision.calibrate.TensorRanges;
import dev.tftrt.precision.int8.Int8Options;
import dev.tftrt.util.OutputTargets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code convert --precision int8} calibrates from, resolved before any work: the data
 * (a path or the caller's samples), a cache to read (when the file exists) or to write (when it
 * does not yet). Int8 with neither data nor a cache to read is one sentence.
 */
record Int8Inputs(Int8Options options, CalibrationData data, List<TensorRanges> cache, Path writeCache) {

  static Int8Inputs of(ConvertJob.Options o) {
    Int8Options i = o.int8() != null ? o.int8() : Int8Options.defaults();
    List<TensorRanges> cache = i.readsCache() ? CalibrationCache.read(i.calibrationCache()) : null;
    CalibrationData data = o.calibrationSamples() != null ? CalibrationData.of(o.calibrationSamples())
        : i.calibrationData() != null ? CalibrationData.open(i.calibrationData(), i.preprocess()) : null;
    if (data == null && cache == null) {
      throw new TftrtException(i.calibrationCache() == null
          ? "--precision int8 needs --calibration-data PATH (or a --calibration-cache FILE written by an earlier run)."
          : "--calibration-cache " + i.calibrationCache() + " does not exist yet, so --calibration-data PATH is needed to make it.");
    }
    return new Int8Inputs(i, data, cache, cache == null ? i.calibrationCache() : null);
  }

  /** The cache to be written may not replace anything, nor lie inside an input or the output folder. */
  void checkCacheTarget(ConvertJob.Options o) {
    if (writeCache == null) return;
    Path out = o.out().toAbsolutePath().normalize();
    if (writeCache.toAbsolutePath().normalize().startsWith(out)) {
      throw new TftrtException("cannot write the calibration cache " + writeCache + " inside the output folder " + o.out()
          + ": name a file outside it.");
    }
    List<Path> inputs = new ArrayList<>(OutputTargets.modelInputs(o.load().path(), o.load().checkpoint()));
    if (options.calibrationData() != null) inputs.add(options.calibrationData());
    OutputTargets.check(writeCache, OutputTargets.Kind.FILE, false, inputs, null);
  }

  /** Ranges from the cache (each segment's own, or one sentence), or one calibration pass over the data. */
  Int8Calibrated calibrate(Plan plan, java.util.Map<String, long[]> shapes, List<SegmentCalibration.Target> targets) {
    List<TensorRanges> ranges = new ArrayList<>();
    if (cache != null) {
      // The default calibrator accepts whichever one made the cache; one named must match it.
      boolean chosen = options.calibrator() != Calibrator.PERCENTILE || options.percentile() != Calibrator.DEFAULT_PERCENTILE;
      for (SegmentCalibration.Target t : targets) {
        ranges.add(CalibrationCache.forSegment(cache, t.fp32(), options.calibrationCache().toString(),
            chosen ? options.calibrator().spec(options.percentile()) : null));
      }
    }
    SegmentCalibration.Result r = data == null || targets.isEmpty() ? null
        : SegmentCalibration.run(plan, shapes, targets, data, options, cache == null);
    if (cache == null) ranges = r == null ? List.of() : r.ranges();
    return new Int8Calibrated(options, ranges, r, data == null ? null : data.describe(), cache != null, writeCache);
  }
}
