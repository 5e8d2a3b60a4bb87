package dev.tftrt.convert.passes;

import dev.tftrt.convert.onnx.GraphProto;

/**
 * A rewrite of an emitted ONNX graph that keeps its outputs equal (transpose cancelling, dead
 * node removal...). Runs after all converters; must keep graph input and output names.
 * Keeps no state in fields between or during calls: one instance serves every export, from
 * any number of threads at once.
 */
public interface OnnxPass {
  String name();

  GraphProto apply(GraphProto graph);
}
