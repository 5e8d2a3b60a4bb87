package dev.tftrt.convert;

import dev.tftrt.TftrtException;
import java.util.List;
import java.util.stream.Collectors;

/** Export failed because some nodes do not convert; lists each with its op and reason. */
public final class UnsupportedNodesException extends TftrtException {
  private static final long serialVersionUID = 1L;

  /** One node that does not convert. */
  public record Unsupported(String node, String op, String reason) {
    @Override
    public String toString() {
      return node + " (" + op + "): " + reason;
    }
  }

  private final transient List<Unsupported> nodes;

  public UnsupportedNodesException(List<Unsupported> nodes) {
    super(message(nodes));
    this.nodes = List.copyOf(nodes);
  }

  public List<Unsupported> nodes() {
    return nodes;
  }

  private static String message(List<Unsupported> nodes) {
    String list = nodes.stream().map(u -> u.node() + " (" + u.op() + "): "
        + u.reason().replaceAll("\\.$", "")).collect(Collectors.joining("; "));
    return nodes.size() + (nodes.size() == 1 ? " node does" : " nodes do")
        + " not convert to ONNX: " + list + ".";
  }
}
