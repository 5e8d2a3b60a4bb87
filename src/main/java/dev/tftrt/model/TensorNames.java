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
    int colon = s.indexOf(':');
    return colon < 0 ? s : s.substring(0, colon);
  }

  /** The output index of a data edge or tensor name ("a" and "a:0" are 0). */
  public static int index(String input) {
    int colon = input.lastIndexOf(':');
    if (colon < 0) return 0;
    try {
      return Integer.parseInt(input.substring(colon + 1));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** Canonical "node:index" form of a tensor name. */
  public static String canonical(String tensor) {
    return node(tensor) + ":" + index(tensor);
  }

  /** The form GraphDef edges use: "node" for output 0, "node:i" otherwise. */
  public static String edge(String node, int index) {
    return index == 0 ? node : node + ":" + index;
  }
}
