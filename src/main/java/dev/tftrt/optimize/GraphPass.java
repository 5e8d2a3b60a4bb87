package dev.tftrt.optimize;

import org.tensorflow.proto.GraphDef;

/**
 * One optimisation of a frozen graph. A pass is pure: it returns a new GraphDef and never
 * changes the one it is given. It keeps the nodes the context protects (the graph's inputs and
 * outputs) under their names, with the same values, and records what it changed in
 * {@link PassContext#counts(String)} under its {@link #name()}.
 */
public interface GraphPass {
  /** A short, stable name used in reports, e.g. "remove-identity". */
  String name();

  GraphDef apply(GraphDef g, PassContext ctx);
}
