package dev.tftrt.precision.int8;

import dev.tftrt.TftrtException;
import dev.tftrt.precision.calibrate.Calibration;
import dev.tftrt.precision.calibrate.Calibrator;
import dev.tftrt.precision.calibrate.Preprocess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What {@code convert --precision int8} takes: the calibrator (and its percentile), the data or
 * a calibration cache, how images are preprocessed, and the precision of everything not
 * quantized ({@code --int8-rest}: fp16, the default, or fp32). Parsed from the CLI's strings
 * with one sentence per mistake, so wiring it into a command is a few lines.
 */
public record Int8Options(Calibrator calibrator, double percentile, Path calibrationData, Path calibrationCache,
    Preprocess preprocess, Rest rest, int batch) {

  /** The precision of the ops that get no Q/DQ. */
  public enum Rest {
    FP16, FP32;

    public static Rest parse(String s) {
      if (s == null) return FP16;
      for (Rest r : values()) if (r.name().equalsIgnoreCase(s.trim())) return r;
      throw new TftrtException("--int8-rest '" + s + "' is not fp16 or fp32.");
    }

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public static Int8Options defaults() {
    return new Int8Options(Calibrator.PERCENTILE, Calibrator.DEFAULT_PERCENTILE, null, null, Preprocess.NONE, Rest.FP16,
        Calibration.DEFAULT_BATCH);
  }

  public Int8Options {
    if (calibrator == null) calibrator = Calibrator.PERCENTILE;
    if (preprocess == null) preprocess = Preprocess.NONE;
    if (rest == null) rest = Rest.FP16;
    if (!(percentile > 0 && percentile <= 100)) {
      throw new TftrtException("--percentile " + percentile + " must be above 0 and at most 100.");
    }
    if (batch < 1) throw new TftrtException("--calibration-batch " + batch + " must be at least 1.");
  }

  /**
   * From the CLI's option values (any may be null): {@code --calibrator max|percentile[:P]|entropy|mse},
   * {@code --calibration-data PATH}, {@code --calibration-cache FILE}, {@code --preprocess ...},
   * {@code --int8-rest fp16|fp32}.
   */
  public static Int8Options parse(String calibrator, String data, String cache, String preprocess, String rest) {
    Calibrator c = Calibrator.PERCENTILE;
    double p = Calibrator.DEFAULT_PERCENTILE;
    if (calibrator != null) {
      String[] parts = calibrator.split(":", 2);
      c = Calibrator.parse(parts[0]);
      if (parts.length == 2) {
        if (c != Calibrator.PERCENTILE) throw new TftrtException("--calibrator " + c.label() + " takes no value after ':'.");
        try {
          p = Double.parseDouble(parts[1]);
        } catch (NumberFormatException e) {
          throw new TftrtException("--calibrator percentile:" + parts[1] + " does not give a number.");
        }
      }
    }
    Path d = data == null ? null : Path.of(data);
    Path k = cache == null ? null : Path.of(cache);
    if (d != null && !Files.exists(d)) throw new TftrtException("--calibration-data " + d + " does not exist.");
    if (d == null && (k == null || !Files.exists(k))) {
      throw new TftrtException(k == null
          ? "--precision int8 needs --calibration-data PATH (or a --calibration-cache FILE written by an earlier run)."
          : "--calibration-cache " + k + " does not exist yet, so --calibration-data PATH is needed to make it.");
    }
    return new Int8Options(c, p, d, k, Preprocess.parse(preprocess), Rest.parse(rest), Calibration.DEFAULT_BATCH);
  }

  /** True when the cache file is to be read instead of calibrating. */
  public boolean readsCache() {
    return calibrationCache != null && Files.isRegularFile(calibrationCache);
  }
}
