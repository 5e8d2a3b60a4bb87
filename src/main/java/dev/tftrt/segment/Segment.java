package dev.tftrt.segment;

import java.util.List;

/**
 * A subgraph that becomes one engine: its nodes in topological order (constants it reads are
 * included, copied if others read them too), the tensors it reads from outside and those it
 * produces for outside, each as a canonical "node:index" name.
 */
public record Segment(int id, List<String> nodes, List<String> inputs, List<String> outputs,
    int size) {
  public Segment {
    nodes = List.copyOf(nodes);
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }

  public String name() {
    return "TftrtEngine_" + id;
  }
}
