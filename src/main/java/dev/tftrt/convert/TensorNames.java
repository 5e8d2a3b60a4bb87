package dev.tftrt.convert;

/** TensorFlow tensor naming: "node" and "node:0" are the same tensor; "^node" is a control edge. */
public final class TensorNames {
  private TensorNames() {}

  public static boolean isControl(String input) {
    return input.startsWith("^");
  }

  /** The node that produces a tensor (or the source of a control edge). */
  public static String node(String tensor) {
    String t = tensor.startsWith("^") ? tensor.substring(1) : tensor;
    int colon = t.lastIndexOf(':');
    if (colon > 0 && isDigits(t, colon + 1)) return t.substring(0, colon);
    return t;
  }

  /** The output index of a tensor name (0 when none is written). */
  public static int index(String tensor) {
    int colon = tensor.lastIndexOf(':');
    if (colon > 0 && isDigits(tensor, colon + 1)) return Integer.parseInt(tensor.substring(colon + 1));
    return 0;
  }

  /** "node:i", the form used for ONNX value names and map keys. */
  public static String canonical(String tensor) {
    return node(tensor) + ":" + index(tensor);
  }

  public static String of(String node, int index) {
    return node + ":" + index;
  }

  private static boolean isDigits(String s, int from) {
    if (from >= s.length()) return false;
    for (int i = from; i < s.length(); i++) if (!Character.isDigit(s.charAt(i))) return false;
    return true;
  }
}
