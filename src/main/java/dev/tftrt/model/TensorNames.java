package dev.tftrt.model;

/**
 * The naming rules of GraphDef edges: "node" and "node:0" are output 0, "node:2" output 2, and
 * "^node" a control edge. Function bodies add "node:arg_name:index", handled by the inliner.
 */
public final class TensorNames {
  private TensorNames() {}

  public static boolean isControl(String input) {
    return input.startsWith("^");
  }

  /** The producing node of an edge or tensor name. */
  public static String node(String input) {
    String s = isControl(input) ? input.substring(1) : input;
    int colon = s.lastIndexOf(':');
    return colon > 0 && isDigits(s, colon + 1) ? s.substring(0, colon) : s;
  }

  /** The output index of a data edge or tensor name ("a" and "a:0" are 0). */
  public static int index(String input) {
    int colon = input.lastIndexOf(':');
    return colon > 0 && isDigits(input, colon + 1) ? Integer.parseInt(input.substring(colon + 1)) : 0;
  }

  /** Canonical "node:index" form of a tensor name. */
  public static String canonical(String tensor) {
    return node(tensor) + ":" + index(tensor);
  }

  /** "node:i", the form used for ONNX value names and map keys. */
  public static String of(String node, int index) {
    return node + ":" + index;
  }

  private static boolean isDigits(String s, int from) {
    if (from >= s.length()) return false;
    for (int i = from; i < s.length(); i++) if (!Character.isDigit(s.charAt(i))) return false;
    return true;
  }

  /** The form GraphDef edges use: "node" for output 0, "node:i" otherwise. */
  public static String edge(String node, int index) {
    return index == 0 ? node : node + ":" + index;
  }
}
