package dev.tftrt.precision;

import dev.tftrt.TftrtException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The arithmetic an engine is built for. TensorRT 11 networks are strongly typed, so a
 * precision is not a builder flag: it is what the segment's ONNX declares (FP16 tensors and
 * casts, or Quantize/Dequantize pairs with scales), written by this package.
 */
public enum Precision {
  FP32,
  FP16,
  INT8;

  /** The name users type and manifests store ({@code fp32}, {@code fp16}, {@code int8}). */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a user's or manifest's name, case-insensitively; one sentence for anything else. */
  public static Precision parse(String text) {
    if (text != null) {
      for (Precision p : values()) {
        if (p.label().equalsIgnoreCase(text.trim())) {
          return p;
        }
      }
    }
    throw new TftrtException("Unknown precision '" + text + "': use one of "
        + Arrays.stream(values()).map(Precision::label).collect(Collectors.joining(", ")) + ".");
  }

  @Override
  public String toString() {
    return label();
  }
}
