package dev.tftrt.runtime.backend;

import dev.tftrt.TftrtException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What runs an engine node. One list for the CLI's {@code --backend}, the convert options, the
 * engine node's {@code backend} attribute and {@link dev.tftrt.runtime.TftrtModel}'s load
 * options, so a name valid in one place is valid in all.
 */
public enum Backend {
  /** TensorRT where a GPU and TensorRT are usable, else ONNX Runtime, else TensorFlow. */
  AUTO,
  TENSORRT,
  ONNXRUNTIME,
  TENSORFLOW;

  /** The name users type and engine nodes store ({@code auto}, {@code onnxruntime}, ...). */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses a user's or node's name, case-insensitively; one sentence for anything else. */
  public static Backend parse(String text) {
    if (text != null) {
      for (Backend b : values()) {
        if (b.label().equalsIgnoreCase(text.strip())) return b;
      }
    }
    throw new TftrtException("Unknown backend '" + text + "': use one of " + labels() + ".");
  }

  /** "auto, tensorrt, onnxruntime, tensorflow", for messages and help. */
  public static String labels() {
    return Arrays.stream(values()).map(Backend::label).collect(Collectors.joining(", "));
  }

  @Override
  public String toString() {
    return label();
  }
}
