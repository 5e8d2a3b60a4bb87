package dev.tftrt.pipeline;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import dev.tftrt.convert.ConverterRegistry;
import dev.tftrt.convert.NodeView;
import dev.tftrt.convert.OnnxExporter;
import dev.tftrt.convert.TfGraph;
import dev.tftrt.convert.UnproducedOutputException;
import dev.tftrt.convert.onnx.ModelProto;
import dev.tftrt.model.TensorNames;
import dev.tftrt.runtime.OnnxRunner;
import dev.tftrt.segment.Segment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Each segment's ONNX is loaded into ONNX Runtime as it is made (load runs the model checker
 * and shape inference), so a converter that emits ONNX the runtime refuses costs the node that
 * emitted it, not the whole conversion. The culprit is found by loading each of the segment's
 * nodes alone; if none fails alone, every node of the segment is blamed.
 */
final class RuntimeValidation {
  private final TfGraph graph;
  private final ConverterRegistry registry;
  private final int opset;

  RuntimeValidation(TfGraph graph, ConverterRegistry registry, int opset) {
    this.graph = graph;
    this.registry = registry;
    this.opset = opset;
  }

  /** Nodes of s whose ONNX ONNX Runtime refuses, each with the reason; empty when s loads. */
  Map<String, String> rejected(Segment s) {
    Map<String, String> bad = new LinkedHashMap<>();
    Optional<String> whole;
    try {
      whole = refusal(s.inputs(), s.outputs());
    } catch (UnproducedOutputException e) { // read outside the engine, which cannot produce it
      bad.put(TensorNames.node(e.tensor()), "its output " + TensorNames.index(e.tensor())
          + " is read outside the engine, and its converter does not produce it, so it stays in TensorFlow.");
      return bad;
    }
    if (whole.isEmpty()) return bad;
    for (String n : s.nodes()) {
      List<String> outs = usedOutputs(n, s);
      if (outs.isEmpty()) continue;
      Optional<String> alone;
      try {
        alone = refusal(dataInputs(n), outs);
      } catch (RuntimeException e) {
        continue; // a node that cannot be exported alone (an input of unknown dtype) is not the one to blame
      }
      alone.ifPresent(why -> bad.put(n, reason(why)));
    }
    if (bad.isEmpty()) {
      String why = "its engine's ONNX is refused by ONNX Runtime (" + whole.get() + "), though no node's alone is,"
          + " so the segment stays in TensorFlow.";
      for (String n : s.nodes()) bad.put(n, why);
    }
    return bad;
  }

  private static String reason(String runtimeMessage) {
    return "ONNX Runtime refuses its ONNX (" + runtimeMessage + "), so it stays in TensorFlow.";
  }

  /** Why ONNX Runtime refuses the ONNX of the nodes between inputs and outputs, if it does. */
  private Optional<String> refusal(List<String> inputs, List<String> outputs) {
    ModelProto m = new OnnxExporter(registry).opset(opset).export(graph, inputs, outputs);
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
      so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT); // loading checks it; no need to optimize
      try (OrtSession ignored = dev.tftrt.runtime.ort.Ort.environment().createSession(m.toByteArray(), so)) {
        return Optional.empty();
      }
    } catch (OrtException e) {
      return Optional.of(clean(e.getMessage()));
    }
  }

  /** ONNX Runtime's message without its status prefix and on one line. */
  static String clean(String message) {
    String m = message == null ? "no message" : message.strip();
    m = m.replaceFirst("^Error code - ORT_[A-Z_]+ - message: ", "");
    m = m.replaceFirst("^\\[ONNXRuntimeError\\] : \\d+ : [A-Z_]+ : ", "");
    m = m.replaceFirst("^Load model from memory failed:", "").strip();
    int nl = m.indexOf('\n');
    if (nl > 0) m = m.substring(0, nl).strip();
    return m.endsWith(".") ? m.substring(0, m.length() - 1) : m;
  }

  /** Node n's non-constant data inputs: what a one-node ONNX model is fed. */
  private List<String> dataInputs(String n) {
    NodeView v = graph.view(n);
    List<String> r = new ArrayList<>();
    for (int i = 0; i < v.numInputs(); i++) {
      if (!v.isConstant(i) && !r.contains(v.input(i))) r.add(v.input(i));
    }
    return r;
  }

  /** Node n's outputs that something reads, or that the segment outputs, in index order. */
  private List<String> usedOutputs(String n, Segment s) {
    java.util.TreeSet<Integer> used = new java.util.TreeSet<>();
    for (org.tensorflow.proto.NodeDef d : graph.nodes()) {
      for (String in : d.getInputList()) {
        if (!TensorNames.isControl(in) && TensorNames.node(in).equals(n)) used.add(TensorNames.index(in));
      }
    }
    for (String o : s.outputs()) if (TensorNames.node(o).equals(n)) used.add(TensorNames.index(o));
    List<String> r = new ArrayList<>();
    for (int i : used) r.add(TensorNames.of(n, i));
    return r;
  }
}
