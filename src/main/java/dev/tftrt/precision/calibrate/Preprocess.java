package dev.tftrt.precision.calibrate;

import dev.tftrt.TftrtException;
import java.util.Arrays;
import java.util.Locale;

/**
 * How decoded image pixels (0..255) become a model's input: value = (pixel * scale - mean[c]) /
 * std[c], channels in RGB or BGR order, laid out NHWC or NCHW (auto: NCHW when the input's
 * second dimension is 1 or 3 and its last is not). Integer inputs (uint8 images) take raw
 * pixels and refuse any arithmetic.
 */
public record Preprocess(double scale, float[] mean, float[] std, boolean bgr, Layout layout) {
  public enum Layout { AUTO, NHWC, NCHW }

  public static final Preprocess NONE = new Preprocess(1, new float[] {0f}, new float[] {1f}, false, Layout.AUTO);

  public Preprocess {
    mean = mean.clone();
    std = std.clone();
    for (float s : std) {
      if (!(s > 0) || Float.isInfinite(s)) throw new TftrtException("--preprocess std " + s + " must be a positive number.");
    }
  }

  @Override
  public float[] mean() {
    return mean.clone();
  }

  @Override
  public float[] std() {
    return std.clone();
  }

  public boolean isIdentity() {
    return scale == 1 && allEqual(mean, 0f) && allEqual(std, 1f) && !bgr;
  }

  private static boolean allEqual(float[] v, float x) {
    for (float f : v) if (f != x) return false;
    return true;
  }

  float mean(int c) {
    return mean.length == 1 ? mean[0] : mean[c];
  }

  float std(int c) {
    return std.length == 1 ? std[0] : std[c];
  }

  /**
   * Parses {@code scale=1/255,mean=0.485:0.456:0.406,std=0.229:0.224:0.225,order=bgr,layout=nchw}
   * (every key optional; a scale may be a fraction).
   */
  public static Preprocess parse(String text) {
    if (text == null || text.isBlank()) return NONE;
    double scale = 1;
    float[] mean = {0f};
    float[] std = {1f};
    boolean bgr = false;
    Layout layout = Layout.AUTO;
    for (String part : text.split(",")) {
      int eq = part.indexOf('=');
      if (eq < 0) throw new TftrtException("--preprocess '" + part + "' is not KEY=VALUE (keys: scale, mean, std, order, layout).");
      String k = part.substring(0, eq).trim().toLowerCase(Locale.ROOT);
      String v = part.substring(eq + 1).trim();
      switch (k) {
        case "scale" -> scale = number(v, k);
        case "mean" -> mean = floats(v, k);
        case "std" -> std = floats(v, k);
        case "order" -> {
          if (!v.equalsIgnoreCase("rgb") && !v.equalsIgnoreCase("bgr")) {
            throw new TftrtException("--preprocess order '" + v + "' is not rgb or bgr.");
          }
          bgr = v.equalsIgnoreCase("bgr");
        }
        case "layout" -> {
          try {
            layout = Layout.valueOf(v.toUpperCase(Locale.ROOT));
          } catch (IllegalArgumentException e) {
            throw new TftrtException("--preprocess layout '" + v + "' is not nhwc, nchw or auto.");
          }
        }
        default -> throw new TftrtException("--preprocess key '" + k + "' is unknown (keys: scale, mean, std, order, layout).");
      }
    }
    return new Preprocess(scale, mean, std, bgr, layout);
  }

  private static double number(String v, String key) {
    try {
      int slash = v.indexOf('/');
      if (slash > 0) return Double.parseDouble(v.substring(0, slash)) / Double.parseDouble(v.substring(slash + 1));
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new TftrtException("--preprocess " + key + " '" + v + "' is not a number.");
    }
  }

  private static float[] floats(String v, String key) {
    String[] p = v.split(":");
    float[] r = new float[p.length];
    for (int i = 0; i < p.length; i++) r[i] = (float) number(p[i].trim(), key);
    return r;
  }

  /** The canonical text, part of the calibration data's identity. */
  @Override
  public String toString() {
    return "scale=" + scale + ",mean=" + Arrays.toString(mean) + ",std=" + Arrays.toString(std)
        + ",order=" + (bgr ? "bgr" : "rgb") + ",layout=" + layout.name().toLowerCase(Locale.ROOT);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Preprocess p && toString().equals(p.toString());
  }

  @Override
  public int hashCode() {
    return toString().hashCode();
  }
}
