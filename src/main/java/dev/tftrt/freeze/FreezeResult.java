package dev.tftrt.freeze;

import dev.tftrt.model.TensorSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.GraphDef;

/**
 * A frozen graph, its inputs and outputs (by the source's names), and what freezing did:
 * nodesBefore counts the source graph's top-level nodes, nodesRemoved what was dropped from
 * them and from the function bodies inlined into them; variableReadRuns, how many session runs
 * reading the variables' values took (one: each run after a graph change re-prepares the graph).
 */
public record FreezeResult(GraphDef graph, List<TensorSpec> inputs, List<TensorSpec> outputs,
    int nodesBefore, int variablesFrozen, int functionsInlined, int nodesRemoved,
    int variableReadRuns) {

  public Map<String, Object> stats() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("nodesBefore", nodesBefore);
    m.put("nodesAfter", graph.getNodeCount());
    m.put("variablesFrozen", variablesFrozen);
    m.put("functionsInlined", functionsInlined);
    m.put("nodesRemoved", nodesRemoved);
    m.put("functionLibraryKept", graph.getLibrary().getFunctionCount());
    return m;
  }
}
